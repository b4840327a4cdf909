import vine from '@vinejs/vine'
import { IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'
import {
  MAX_LISTED_PEOPLE,
  MAX_RULE_UNITS,
  parsePersonNumbers,
  parseYearList,
  type AudienceRuleIssue,
  type AudienceRules,
  type AudienceRulesInput,
} from '#identity/services/audience_rules'

/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** A pasted list: about 11 bytes a number, the form body's 1 MB limit comes first. */
const LIST_TEXT_LIMIT = MAX_LISTED_PEOPLE * 34

/**
 * The audience editor's fields, as the form posts them under `audience[...]`
 * (components/audience_editor.edge). Kept as text so that a form with a
 * mistake comes back exactly as it was typed.
 */
export interface AudienceFormValues {
  all_people: boolean
  identity_types: string[]
  statuses: string[]
  units: string[]
  unit_subtree: string[]
  years: string
  year_from: string
  year_to: string
  tags: string
  include: string
  exclude: string
}

const publicIds = () =>
  vine.array(vine.string().trim().toUpperCase().regex(PUBLIC_ID)).maxLength(MAX_RULE_UNITS)

/**
 * The shape of the editor's fields. Values such as years and person numbers
 * are checked afterwards by the rules, which name each problem.
 */
export const audienceEditorValidator = vine.create({
  all_people: vine.boolean().optional(),
  identity_types: vine.array(vine.enum(IDENTITY_TYPES)).optional(),
  statuses: vine.array(vine.enum(PERSON_STATUSES)).optional(),
  units: publicIds().optional(),
  unit_subtree: publicIds().optional(),
  years: vine.string().maxLength(2000).optional(),
  year_from: vine.string().trim().maxLength(8).optional(),
  year_to: vine.string().trim().maxLength(8).optional(),
  tags: vine.string().maxLength(2000).optional(),
  include: vine.string().maxLength(LIST_TEXT_LIMIT).optional(),
  exclude: vine.string().maxLength(LIST_TEXT_LIMIT).optional(),
})

/** The audience page's own fields around the editor. */
export const audienceFormValidator = vine.create({
  name: vine.string().trim().minLength(1).maxLength(120),
  description: vine.string().trim().maxLength(500).optional(),
})

/** The public id in /console/audiences/:publicId. */
export const audienceParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** Filters of the audience list. */
export const audienceFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  state: vine.enum(['active', 'archived'] as const).optional(),
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})

/** Drops the blanks a form sends for untouched fields ("" or null). */
export function withoutBlanks(input: unknown): Record<string, unknown> {
  if (!input || typeof input !== 'object') return {}
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== '' && value !== null)
  )
}

/** The editor's fields filled from stored rules (for the edit page). */
export function formValuesFromRules(rules: AudienceRules): AudienceFormValues {
  const { years, from, to } = rules.enrollmentYears
  return {
    all_people: rules.allPeople,
    identity_types: rules.identityTypes,
    statuses: rules.statuses,
    units: rules.orgUnits.map((rule) => rule.unit),
    unit_subtree: rules.orgUnits.filter((rule) => rule.descendants).map((rule) => rule.unit),
    years: years.join(', '),
    year_from: from === null ? '' : String(from),
    year_to: to === null ? '' : String(to),
    tags: rules.tags.join(', '),
    include: rules.include.join('\n'),
    exclude: rules.exclude.join('\n'),
  }
}

export interface ReadEditor {
  values: AudienceFormValues
  /** The rule document to validate, or null when the fields could not be read. */
  rules: AudienceRulesInput | null
  /** Problems found while reading the fields themselves. */
  issues: AudienceRuleIssue[]
}

function readYear(text: string): number | null | undefined {
  if (text === '') return null
  return /^\d{1,4}$/.test(text) ? Number(text) : undefined
}

/**
 * Reads the editor's fields (the `audience` object of a request body) into
 * a rule document. Ticking "include sub-units" selects the unit as well.
 */
export async function readAudienceEditor(raw: unknown): Promise<ReadEditor> {
  const [error, input] = await audienceEditorValidator.tryValidate(withoutBlanks(raw))
  const values: AudienceFormValues = {
    all_people: input?.all_people ?? false,
    identity_types: input?.identity_types ?? [],
    statuses: input?.statuses ?? [],
    units: input?.units ?? [],
    unit_subtree: input?.unit_subtree ?? [],
    years: input?.years ?? '',
    year_from: input?.year_from ?? '',
    year_to: input?.year_to ?? '',
    tags: input?.tags ?? '',
    include: input?.include ?? '',
    exclude: input?.exclude ?? '',
  }
  if (error) {
    const kinds: Record<string, AudienceRuleIssue['kind']> = {
      all_people: 'allPeople',
      identity_types: 'identityTypes',
      statuses: 'statuses',
      units: 'orgUnits',
      unit_subtree: 'orgUnits',
      years: 'enrollmentYears',
      year_from: 'enrollmentYears',
      year_to: 'enrollmentYears',
      tags: 'tags',
      include: 'include',
      exclude: 'exclude',
    }
    const fields = new Set(
      (error.messages as { field: string }[]).map((message) => message.field.split('.')[0])
    )
    const issueKinds = new Set([...fields].map((field) => kinds[field] ?? 'identityTypes'))
    return {
      values,
      rules: null,
      issues: [...issueKinds].map((kind) => ({ kind, code: 'invalid_value' as const })),
    }
  }

  const issues: AudienceRuleIssue[] = []
  const years = parseYearList(values.years)
  const from = readYear(values.year_from)
  const to = readYear(values.year_to)
  if (years === null || from === undefined || to === undefined) {
    issues.push({ kind: 'enrollmentYears', code: 'invalid_value' })
  }
  const subtree = new Set(values.unit_subtree)
  const units = [...new Set([...values.units, ...values.unit_subtree])]
  return {
    values,
    rules:
      issues.length > 0
        ? null
        : {
            allPeople: values.all_people,
            identityTypes: values.identity_types,
            statuses: values.statuses,
            orgUnits: units.map((unit) => ({ unit, descendants: subtree.has(unit) })),
            enrollmentYears: { years: years ?? [], from: from ?? null, to: to ?? null },
            tags: values.tags
              .split(/[,，;；\s]+/)
              .map((tag) => tag.trim())
              .filter(Boolean),
            include: parsePersonNumbers(values.include),
            exclude: parsePersonNumbers(values.exclude),
          },
    issues,
  }
}
