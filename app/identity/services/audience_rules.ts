/**
 * Audience rules: which people an audience selects, as one JSON document.
 *
 * Kinds combine with AND, the values inside one kind with OR: "teachers or
 * staff, in the medical college or below it, who are active". The explicit
 * include list adds people whatever the conditions say, and the exclude list
 * removes people whatever else says: exclusion always wins. A rule set with
 * no condition selects nobody; selecting everyone takes the explicit
 * `allPeople` flag, so that a form left blank can never reach the whole school.
 */
import vine from '@vinejs/vine'
import db from '@adonisjs/lucid/services/db'
import type { DatabaseQueryBuilderContract } from '@adonisjs/lucid/types/querybuilder'
import OrgUnit from '#identity/models/org_unit'
import {
  IDENTITY_TYPES,
  PERSON_STATUSES,
  type IdentityType,
  type PersonStatus,
} from '#identity/models/person'
import { fail, ok, type Result } from '#core/services/result'
import { registryTags } from '#identity/services/audience_tags'

export const AUDIENCE_RULES_VERSION = 1

/** Person numbers in one explicit list; about 1 MB of form data. */
export const MAX_LISTED_PEOPLE = 100_000
export const MAX_RULE_UNITS = 1000
export const MAX_RULE_YEARS = 200
export const MAX_RULE_TAGS = 200
/** Enrollment years outside this span are typing mistakes, not intakes. */
export const YEAR_SPAN = { min: 1900, max: 2200 } as const

/** A person number as the registry stores it: upper case, no spaces or separators. */
const PERSON_NO = /^[^\s,;，；、]{1,32}$/
/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** One org unit condition: the unit itself, or the unit and every unit below it. */
export interface OrgUnitRule {
  /** Public id of the unit: stays right when the unit is renamed or moved. */
  unit: string
  descendants: boolean
}

/** Enrollment years: any of the listed years, or within the range (either end open). */
export interface EnrollmentYearRule {
  years: number[]
  from: number | null
  to: number | null
}

/** The stored, normalized form: every kind present, lists sorted and without repeats. */
export interface AudienceRules {
  version: typeof AUDIENCE_RULES_VERSION
  /** Everyone in the registry; only valid without any other condition. */
  allPeople: boolean
  identityTypes: IdentityType[]
  orgUnits: OrgUnitRule[]
  statuses: PersonStatus[]
  enrollmentYears: EnrollmentYearRule
  /** Tag names; accepted once a tag source is provided (see `provideAudienceTags`). */
  tags: string[]
  /** Person numbers added whatever the conditions say. */
  include: string[]
  /** Person numbers removed whatever else says. */
  exclude: string[]
}

/** The kinds of rule, as named in issues and in the editor. */
export type AudienceRuleKind =
  | 'allPeople'
  | 'identityTypes'
  | 'orgUnits'
  | 'statuses'
  | 'enrollmentYears'
  | 'tags'
  | 'include'
  | 'exclude'

export type AudienceRuleIssueCode =
  | 'invalid_value'
  | 'too_many'
  | 'unknown_org_unit'
  | 'year_out_of_range'
  | 'year_range_reversed'
  | 'invalid_person_no'
  | 'all_people_with_conditions'
  | 'tags_unavailable'
  | 'unknown_tag'

/** One problem with a rule set; adapters translate `audiences.issues.<code>`. */
export interface AudienceRuleIssue {
  kind: AudienceRuleKind
  code: AudienceRuleIssueCode
  params?: Record<string, string | number>
}

/**
 * Where tags come from. The people registry's tags plug in here once they
 * exist: until a source is provided, a rule set with tags is refused with
 * `tags_unavailable` instead of being silently ignored (which would widen
 * the audience).
 */
export interface AudienceTagSource {
  /** The tags of the list that do not exist. */
  unknownTags(tags: string[]): Promise<string[]>
  /** A query selecting the ids of people who carry any of the tags. */
  peopleWithAnyTag(tags: string[]): DatabaseQueryBuilderContract
}

let tagSource: AudienceTagSource | null = registryTags

/** Makes the `tags` rule kind available (null withdraws it again). */
export function provideAudienceTags(source: AudienceTagSource | null) {
  tagSource = source
}

/** The current tag source, or null while tags are not available. */
export function audienceTagSource(): AudienceTagSource | null {
  return tagSource
}

/** A rule set that selects nobody: the starting point of every editor. */
export function emptyAudienceRules(): AudienceRules {
  return {
    version: AUDIENCE_RULES_VERSION,
    allPeople: false,
    identityTypes: [],
    orgUnits: [],
    statuses: [],
    enrollmentYears: { years: [], from: null, to: null },
    tags: [],
    include: [],
    exclude: [],
  }
}

/** True when the rules name at least one condition (an explicit list is not one). */
export function hasConditions(rules: AudienceRules): boolean {
  return (
    rules.identityTypes.length > 0 ||
    rules.orgUnits.length > 0 ||
    rules.statuses.length > 0 ||
    rules.enrollmentYears.years.length > 0 ||
    rules.enrollmentYears.from !== null ||
    rules.enrollmentYears.to !== null ||
    rules.tags.length > 0
  )
}

const year = () => vine.number().withoutDecimals()

/**
 * The shape of a rule document coming from code or JSON (every kind
 * optional). Values are checked afterwards, so that each problem becomes an
 * issue the user can read, not a schema error.
 */
const rulesShape = vine.create({
  version: vine.literal(AUDIENCE_RULES_VERSION).optional(),
  allPeople: vine.boolean().optional(),
  identityTypes: vine.array(vine.string()).optional(),
  orgUnits: vine
    .array(vine.object({ unit: vine.string(), descendants: vine.boolean().optional() }))
    .optional(),
  statuses: vine.array(vine.string()).optional(),
  enrollmentYears: vine
    .object({
      years: vine.array(year()).optional(),
      from: year().nullable().optional(),
      to: year().nullable().optional(),
    })
    .optional(),
  tags: vine.array(vine.string()).optional(),
  include: vine.array(vine.string()).optional(),
  exclude: vine.array(vine.string()).optional(),
})

/** What `rulesShape` accepts: a partial rule document. */
export interface AudienceRulesInput {
  allPeople?: boolean
  identityTypes?: string[]
  orgUnits?: { unit: string; descendants?: boolean }[]
  statuses?: string[]
  enrollmentYears?: { years?: number[]; from?: number | null; to?: number | null }
  tags?: string[]
  include?: string[]
  exclude?: string[]
}

const unique = <T>(values: T[]) => [...new Set(values)]

/** Upper-cases, trims and de-duplicates person numbers, keeping their order. */
export function normalizePersonNumbers(values: string[]): string[] {
  return unique(values.map((value) => value.trim().toUpperCase()).filter(Boolean))
}

/**
 * Splits a pasted list of person numbers: one per line, or separated by
 * commas, semicolons, spaces or their full-width forms (as copied from
 * spreadsheets and chat messages).
 */
export function parsePersonNumbers(text: string | null | undefined): string[] {
  return normalizePersonNumbers((text ?? '').split(/[\s,;，；、]+/u))
}

/**
 * Parses a year list such as "2023, 2024 2025"; returns null when a piece is
 * not a whole number.
 */
export function parseYearList(text: string | null | undefined): number[] | null {
  const pieces = (text ?? '').split(/[\s,;，；、]+/u).filter(Boolean)
  if (pieces.some((piece) => !/^\d{1,4}$/.test(piece))) return null
  return unique(pieces.map(Number)).sort((a, b) => a - b)
}

/** Fills in missing kinds and puts every list in a canonical order. */
function normalize(input: AudienceRulesInput): AudienceRules {
  const units = new Map<string, boolean>()
  for (const rule of input.orgUnits ?? []) {
    const key = rule.unit.trim().toUpperCase()
    // Listing a unit twice, once with its sub-units, means the wider of the two.
    units.set(key, (units.get(key) ?? false) || rule.descendants === true)
  }
  return {
    version: AUDIENCE_RULES_VERSION,
    allPeople: input.allPeople === true,
    identityTypes: unique(input.identityTypes ?? []).sort() as IdentityType[],
    orgUnits: [...units]
      .map(([unit, descendants]) => ({ unit, descendants }))
      .sort((a, b) => a.unit.localeCompare(b.unit)),
    statuses: unique(input.statuses ?? []).sort() as PersonStatus[],
    enrollmentYears: {
      years: unique(input.enrollmentYears?.years ?? []).sort((a, b) => a - b),
      from: input.enrollmentYears?.from ?? null,
      to: input.enrollmentYears?.to ?? null,
    },
    tags: unique((input.tags ?? []).map((tag) => tag.trim()).filter(Boolean)).sort(),
    include: normalizePersonNumbers(input.include ?? []),
    exclude: normalizePersonNumbers(input.exclude ?? []),
  }
}

function checkValues(rules: AudienceRules): AudienceRuleIssue[] {
  const issues: AudienceRuleIssue[] = []
  const badType = rules.identityTypes.find((value) => !IDENTITY_TYPES.includes(value))
  if (badType)
    issues.push({ kind: 'identityTypes', code: 'invalid_value', params: { value: badType } })
  const badStatus = rules.statuses.find((value) => !PERSON_STATUSES.includes(value))
  if (badStatus)
    issues.push({ kind: 'statuses', code: 'invalid_value', params: { value: badStatus } })

  const badUnit = rules.orgUnits.find((rule) => !PUBLIC_ID.test(rule.unit))
  if (badUnit)
    issues.push({ kind: 'orgUnits', code: 'unknown_org_unit', params: { value: badUnit.unit } })
  if (rules.orgUnits.length > MAX_RULE_UNITS) {
    issues.push({ kind: 'orgUnits', code: 'too_many', params: { max: MAX_RULE_UNITS } })
  }

  const { years, from, to } = rules.enrollmentYears
  const outside = [...years, from, to].find(
    (value) => value !== null && (value < YEAR_SPAN.min || value > YEAR_SPAN.max)
  )
  if (outside !== undefined && outside !== null) {
    issues.push({
      kind: 'enrollmentYears',
      code: 'year_out_of_range',
      params: { value: String(outside), min: String(YEAR_SPAN.min), max: String(YEAR_SPAN.max) },
    })
  } else if (from !== null && to !== null && from > to) {
    issues.push({
      kind: 'enrollmentYears',
      code: 'year_range_reversed',
      params: { from: String(from), to: String(to) },
    })
  }
  if (years.length > MAX_RULE_YEARS) {
    issues.push({ kind: 'enrollmentYears', code: 'too_many', params: { max: MAX_RULE_YEARS } })
  }

  if (rules.tags.length > MAX_RULE_TAGS) {
    issues.push({ kind: 'tags', code: 'too_many', params: { max: MAX_RULE_TAGS } })
  }

  for (const kind of ['include', 'exclude'] as const) {
    const bad = rules[kind].find((number) => !PERSON_NO.test(number))
    if (bad) issues.push({ kind, code: 'invalid_person_no', params: { value: bad } })
    if (rules[kind].length > MAX_LISTED_PEOPLE) {
      issues.push({ kind, code: 'too_many', params: { max: MAX_LISTED_PEOPLE } })
    }
  }

  // Everyone already includes every listed person: a list next to "all
  // people" means the editor was misunderstood, so it is refused, not ignored.
  if (rules.allPeople && (hasConditions(rules) || rules.include.length > 0)) {
    issues.push({ kind: 'allPeople', code: 'all_people_with_conditions' })
  }
  return issues
}

/** Checks what needs the database: that units exist and tags can be used. */
async function checkReferences(rules: AudienceRules): Promise<AudienceRuleIssue[]> {
  const issues: AudienceRuleIssue[] = []
  if (rules.orgUnits.length > 0) {
    const wanted = rules.orgUnits.map((rule) => rule.unit)
    const rows = await db.from('org_units').whereIn('public_id', wanted).select('public_id')
    const found = new Set(rows.map((row) => row.public_id as string))
    const missing = wanted.filter((unit) => !found.has(unit))
    if (missing.length > 0) {
      issues.push({
        kind: 'orgUnits',
        code: 'unknown_org_unit',
        params: { value: missing.slice(0, 5).join(', '), count: missing.length },
      })
    }
  }
  if (rules.tags.length > 0) {
    const source = audienceTagSource()
    if (!source) {
      issues.push({ kind: 'tags', code: 'tags_unavailable' })
    } else {
      const unknown = await source.unknownTags(rules.tags)
      if (unknown.length > 0) {
        issues.push({ kind: 'tags', code: 'unknown_tag', params: { value: unknown.join(', ') } })
      }
    }
  }
  return issues
}

/**
 * Validates a rule document from any source (a form, a module's JSON, an
 * import) and returns it normalized, or every problem found.
 */
export async function validateAudienceRules(
  input: unknown
): Promise<Result<AudienceRules, 'invalid_rules'>> {
  const [shapeError, shaped] = await rulesShape.tryValidate(input)
  if (shapeError) {
    const kinds = new Set(
      (shapeError.messages as { field: string }[]).map(
        (message) => message.field.split('.')[0] as AudienceRuleKind
      )
    )
    return fail('invalid_rules', {
      issues: [...kinds].map((kind): AudienceRuleIssue => ({ kind, code: 'invalid_value' })),
    })
  }
  const rules = normalize(shaped)
  const issues = checkValues(rules)
  if (issues.length === 0) issues.push(...(await checkReferences(rules)))
  return issues.length > 0 ? fail('invalid_rules', { issues }) : ok(rules)
}

/** The issues of a failed `validateAudienceRules`. */
export function audienceRuleIssues(details: Record<string, unknown> | undefined) {
  return (details?.issues ?? []) as AudienceRuleIssue[]
}

/**
 * Reads a stored rule document. Stored rules were validated on the way in;
 * this only fills kinds that later versions add, so old audiences keep
 * working.
 */
export function readStoredRules(json: string): AudienceRules {
  return normalize(JSON.parse(json) as AudienceRulesInput)
}

/** The person numbers of a list that are not in the registry (yet). */
export async function unknownPersonNumbers(numbers: string[]): Promise<string[]> {
  if (numbers.length === 0) return []
  const known = new Set<string>()
  // Chunks keep each query well under the bind-parameter limits.
  for (let start = 0; start < numbers.length; start += 5000) {
    const chunk = numbers.slice(start, start + 5000)
    const rows = await db.from('people').whereIn('person_no', chunk).select('person_no')
    for (const row of rows) known.add(row.person_no as string)
  }
  return numbers.filter((number) => !known.has(number))
}

type Translate = (key: string, data?: Record<string, unknown>) => string

/** English lines are sentence parts until their first letter is raised; Chinese has none. */
const capitalized = (line: string) => line.charAt(0).toUpperCase() + line.slice(1)

/**
 * The rules in words, one line per kind, for detail pages and confirmations
 * ("Identity type: teacher or staff").
 */
export async function describeAudienceRules(rules: AudienceRules, t: Translate): Promise<string[]> {
  if (rules.allPeople) {
    const lines = [t('audiences.describe.all_people')]
    if (rules.exclude.length > 0) {
      lines.push(t('audiences.describe.exclude', { count: rules.exclude.length }))
    }
    return lines.map(capitalized)
  }
  const or = t('audiences.describe.or')
  const lines: string[] = []
  if (rules.identityTypes.length > 0) {
    lines.push(
      t('audiences.describe.identity_types', {
        values: rules.identityTypes.map((type) => t(`identity.identity_types.${type}`)).join(or),
      })
    )
  }
  if (rules.orgUnits.length > 0) {
    const units = await OrgUnit.query().whereIn(
      'public_id',
      rules.orgUnits.map((rule) => rule.unit)
    )
    const names = new Map(units.map((unit) => [unit.publicId, unit.name]))
    lines.push(
      t('audiences.describe.org_units', {
        values: rules.orgUnits
          .map((rule) => {
            const name = names.get(rule.unit) ?? t('audiences.describe.missing_unit')
            return rule.descendants ? t('audiences.describe.with_sub_units', { name }) : name
          })
          .join(or),
      })
    )
  }
  if (rules.statuses.length > 0) {
    lines.push(
      t('audiences.describe.statuses', {
        values: rules.statuses.map((status) => t(`identity.statuses.${status}`)).join(or),
      })
    )
  }
  const { years, from, to } = rules.enrollmentYears
  if (years.length > 0 || from !== null || to !== null) {
    const parts = years.map(String)
    if (from !== null && to !== null) parts.push(`${from}–${to}`)
    else if (from !== null) parts.push(t('audiences.describe.year_from', { year: String(from) }))
    else if (to !== null) parts.push(t('audiences.describe.year_to', { year: String(to) }))
    lines.push(t('audiences.describe.enrollment_years', { values: parts.join(or) }))
  }
  if (rules.tags.length > 0) {
    lines.push(t('audiences.describe.tags', { values: rules.tags.join(or) }))
  }
  if (lines.length > 1) lines.splice(0, lines.length, lines.join(t('audiences.describe.and')))
  if (lines.length === 0 && rules.include.length === 0) lines.push(t('audiences.describe.nobody'))
  if (rules.include.length > 0) {
    lines.push(t('audiences.describe.include', { count: rules.include.length }))
  }
  if (rules.exclude.length > 0) {
    lines.push(t('audiences.describe.exclude', { count: rules.exclude.length }))
  }
  return lines.map(capitalized)
}

/**
 * The issues as sentences in the reader's language, grouped by rule kind so
 * that an editor can show each next to its field.
 */
export function translateAudienceIssues(
  issues: AudienceRuleIssue[],
  t: Translate
): Partial<Record<AudienceRuleKind, string[]>> {
  const grouped: Partial<Record<AudienceRuleKind, string[]>> = {}
  for (const issue of issues) {
    const message = t(`audiences.issues.${issue.code}`, {
      kind: t(`audiences.kinds.${issue.kind}`),
      ...issue.params,
    })
    ;(grouped[issue.kind] ??= []).push(message)
  }
  return grouped
}
