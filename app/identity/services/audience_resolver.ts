/**
 * Turns audience rules into people. The rules compile to one parameterised
 * query over `people` that every operation shares: a count for previews, a
 * batched walk over the ids for large issues (cards for 50,000 people), and
 * a single-person check for visibility decisions.
 */
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import type { DatabaseQueryBuilderContract } from '@adonisjs/lucid/types/querybuilder'
import {
  audienceTagSource,
  hasConditions,
  type AudienceRules,
} from '#identity/services/audience_rules'

type Query = DatabaseQueryBuilderContract

/** People fetched per query when walking an audience. */
export const DEFAULT_BATCH_SIZE = 1000

/**
 * `people.person_no IN (the list)`, the whole list bound as ONE JSON
 * parameter: lists of tens of thousands of numbers stay far from the
 * bind-parameter limits (32,766 on SQLite, 65,535 on PostgreSQL), and the
 * statement text is the same whatever the list's length.
 */
function inPersonList(client: QueryClientContract, numbers: string[]) {
  const list =
    client.dialect.name === 'postgres'
      ? 'SELECT jsonb_array_elements_text(CAST(? AS jsonb))'
      : 'SELECT value FROM json_each(?)'
  return { sql: `people.person_no IN (${list})`, bindings: [JSON.stringify(numbers)] }
}

/** The conditions (AND across kinds, OR within one), or nothing when there are none. */
function applyConditions(client: QueryClientContract, query: Query, rules: AudienceRules) {
  if (rules.identityTypes.length > 0) query.whereIn('people.identity_type', rules.identityTypes)
  if (rules.statuses.length > 0) query.whereIn('people.status', rules.statuses)

  if (rules.orgUnits.length > 0) {
    const unitOnly = rules.orgUnits.filter((rule) => !rule.descendants).map((rule) => rule.unit)
    const withSubUnits = rules.orgUnits.filter((rule) => rule.descendants).map((rule) => rule.unit)
    query.where((units) => {
      if (unitOnly.length > 0) {
        units.orWhereIn(
          'people.org_unit_id',
          client.from('org_units').select('id').whereIn('public_id', unitOnly)
        )
      }
      if (withSubUnits.length > 0) {
        // A unit's subtree is every unit whose path starts with its path
        // ("/1/4/" covers "/1/4/17/"). Paths are read at query time, so a
        // unit moved since the audience was saved brings its new subtree.
        units.orWhereIn(
          'people.org_unit_id',
          client
            .from('org_units as below')
            .joinRaw(`JOIN org_units AS top ON below.path LIKE (top.path || '%')`)
            .whereIn('top.public_id', withSubUnits)
            .select('below.id')
        )
      }
    })
  }

  const { years, from, to } = rules.enrollmentYears
  if (years.length > 0 || from !== null || to !== null) {
    query.where((enrollment) => {
      if (years.length > 0) enrollment.orWhereIn('people.enrollment_year', years)
      if (from !== null || to !== null) {
        enrollment.orWhere((range) => {
          if (from !== null) range.where('people.enrollment_year', '>=', from)
          if (to !== null) range.where('people.enrollment_year', '<=', to)
        })
      }
    })
  }

  if (rules.tags.length > 0) {
    const source = audienceTagSource()
    // Validation refuses tags without a source; a stored audience whose tags
    // became unavailable must select fewer people, never more.
    if (source) query.whereIn('people.id', source.peopleWithAnyTag(rules.tags))
    else query.whereRaw('1 = 0')
  }
}

/** Adds the audience's WHERE clause to a query over `people`. */
function applyRules(client: QueryClientContract, query: Query, rules: AudienceRules) {
  query.where((selected) => {
    if (rules.allPeople) {
      selected.whereRaw('1 = 1')
    } else {
      selected.where((matching) => {
        if (hasConditions(rules)) applyConditions(client, matching, rules)
        else matching.whereRaw('1 = 0')
      })
      if (rules.include.length > 0) {
        const listed = inPersonList(client, rules.include)
        selected.orWhereRaw(listed.sql, listed.bindings)
      }
    }
  })
  if (rules.exclude.length > 0) {
    const listed = inPersonList(client, rules.exclude)
    query.whereRaw(`NOT (${listed.sql})`, listed.bindings)
  }
  return query
}

/** The people an audience's rules select. */
export class ResolvedAudience {
  constructor(
    readonly rules: AudienceRules,
    private client: QueryClientContract = db.connection()
  ) {}

  /** A query selecting `people.id` of every member, for use as a subquery. */
  idsQuery(): Query {
    return applyRules(this.client, this.client.from('people').select('people.id'), this.rules)
  }

  /** How many people the audience selects right now. */
  async count(): Promise<number> {
    const query = applyRules(this.client, this.client.from('people'), this.rules)
    const row = await query.count('* as total').first()
    return Number(row?.total ?? 0)
  }

  /**
   * Every member's id exactly once, in ascending order, `batchSize` at a
   * time. Each batch continues after the last id seen (keyset paging), so
   * people added or removed while the walk runs never shift the batches.
   */
  async *ids(batchSize = DEFAULT_BATCH_SIZE): AsyncGenerator<number[]> {
    let after = 0
    while (true) {
      const rows = await this.idsQuery()
        .where('people.id', '>', after)
        .orderBy('people.id')
        .limit(batchSize)
      if (rows.length === 0) return
      const ids = rows.map((row) => Number(row.id))
      yield ids
      if (ids.length < batchSize) return
      after = ids[ids.length - 1]
    }
  }

  /** Whether one person (by internal id) is in the audience. */
  async contains(personId: number): Promise<boolean> {
    const row = await this.idsQuery().where('people.id', personId).first()
    return row !== null && row !== undefined
  }
}

/**
 * Resolves an audience (or bare rules, such as an unsaved form's) against
 * the registry, optionally inside a caller's transaction.
 */
export function resolveAudience(
  source: AudienceRules | { rules: AudienceRules },
  client?: QueryClientContract
): ResolvedAudience {
  const rules = 'version' in source ? source : source.rules
  return new ResolvedAudience(rules, client)
}
