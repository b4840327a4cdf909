import db from '@adonisjs/lucid/services/db'
import { ModelPaginator } from '@adonisjs/lucid/orm'
import type { ModelQueryBuilderContract } from '@adonisjs/lucid/types/model'
import OrgUnit from '#identity/models/org_unit'
import Person, { type IdentityType, type PersonStatus } from '#identity/models/person'
import { subtreeIds } from '#identity/services/org_tree'
import { checkPhone } from '#identity/services/person_rules'
import { blindIndex } from '#identity/services/pii'
import type { OrgScope } from '#identity/services/org_scope'

export interface PeopleFilters {
  /** Part of the name, the start of the pinyin initials, or the start of the person number. */
  q?: string
  identityType?: IdentityType
  status?: PersonStatus
  /** Public id of an org unit: its people and those of every unit below it. */
  unit?: string
  /**
   * The part of the tree the searching account may read (scopeFor(user,
   * 'people.read')); people outside it are never found. Absent: the whole
   * school, for callers that act for the school itself (the API, jobs).
   */
  scope?: OrgScope
}

export const PEOPLE_PER_PAGE = 50

/**
 * Up to this many matches a page is read from the matching ids, found in one
 * pass; above it, by walking the person number index until the page is full,
 * which then ends after a few pages' worth of rows.
 */
const SPARSE_MATCHES = 2000

/** Escapes LIKE wildcards so that a search for "50%" means those characters. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/**
 * Blind indexes to look a search term up by, when it looks like a phone
 * number or an ID document number: those are stored encrypted, so only an
 * exact match can find them.
 */
export function piiLookups(term: string): { phoneIndex?: string; idDocIndex?: string } {
  const lookups: { phoneIndex?: string; idDocIndex?: string } = {}
  const phone = checkPhone(term)
  if (phone.ok) lookups.phoneIndex = blindIndex('phone', phone.value)
  const compact = term.replace(/[\s-]+/g, '').toUpperCase()
  // Normalized as checkIdDocNumber stores it: no spaces or dashes, upper case.
  if (/^[A-Z0-9]{5,20}$/.test(compact) && /\d/.test(compact)) {
    lookups.idDocIndex = blindIndex('id_doc_number', compact)
  }
  return lookups
}

/**
 * Narrows a people query to those whose org unit lies inside the scope. The
 * whole school adds nothing; an empty scope finds nobody. Paths hold only
 * digits and slashes, so the LIKE prefixes need no escaping.
 */
export function whereOrgUnitInScope(
  query: ModelQueryBuilderContract<typeof Person>,
  scope: OrgScope
) {
  if (scope.kind === 'all') return query
  if (scope.paths.length === 0) return query.whereRaw('1 = 0')
  return query.whereIn(
    'org_unit_id',
    db
      .from('org_units')
      .select('id')
      .where((inside) => {
        for (const path of scope.paths) inside.orWhere('path', 'like', `${path}%`)
      })
  )
}

/**
 * One page of the people registry matching the filters, ordered by person
 * number, each with its org unit. The same search works on SQLite and
 * PostgreSQL: person numbers are stored upper case and initials lower case,
 * so neither depends on the database's case rules.
 */
export async function searchPeople(filters: PeopleFilters, page = 1, perPage = PEOPLE_PER_PAGE) {
  const query = Person.query().preload('orgUnit')

  const term = filters.q?.trim()
  if (term) {
    const literal = likeLiteral(term)
    query.where((match) => {
      match
        .whereRaw('lower(name) like ? escape ?', [`%${literal.toLowerCase()}%`, '\\'])
        .orWhereRaw('person_no like ? escape ?', [`${literal.toUpperCase()}%`, '\\'])
      if (/^[A-Za-z]+$/.test(term)) {
        match.orWhereRaw('name_pinyin_initials like ? escape ?', [`${term.toLowerCase()}%`, '\\'])
      }
      const { phoneIndex, idDocIndex } = piiLookups(term)
      if (phoneIndex) match.orWhere('phone_index', phoneIndex)
      if (idDocIndex) match.orWhere('id_doc_index', idDocIndex)
    })
  }
  if (filters.identityType) query.where('identity_type', filters.identityType)
  if (filters.status) query.where('status', filters.status)
  if (filters.unit) {
    const unit = await OrgUnit.findBy('public_id', filters.unit)
    if (unit) query.whereIn('org_unit_id', subtreeIds(unit))
    else query.whereRaw('1 = 0')
  }
  if (filters.scope) whereOrgUnitInScope(query, filters.scope)
  // One pass finds the ids of a small result outright; only a large one
  // needs the separate count and is then paged along the number index.
  const probe = await query
    .clone()
    .select('id')
    .limit(SPARSE_MATCHES + 1)
    .pojo<{ id: number }>()
  let total: number
  let rows: Person[]
  if (probe.length <= SPARSE_MATCHES) {
    total = probe.length
    // Ordering by an expression keeps the databases from walking the whole
    // person number index for these few ids; the order is the same.
    rows =
      total === 0
        ? []
        : await Person.query()
            .preload('orgUnit')
            .whereIn(
              'id',
              probe.map((row) => row.id)
            )
            .orderByRaw("person_no || '' asc, id asc")
            .forPage(page, perPage)
  } else {
    const counted = await query.clone().count('* as total').pojo<{ total: number | string }>()
    total = Number(counted[0].total)
    rows = await query.orderBy('person_no').orderBy('id').forPage(page, perPage)
  }
  const paginator = new ModelPaginator(total, perPage, page, ...rows)
  paginator.namingStrategy = Person.namingStrategy
  return paginator
}
