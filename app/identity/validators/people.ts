import vine from '@vinejs/vine'
import { GENDERS, IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'
import { ID_DOC_TYPES } from '#identity/services/person_rules'
import { REVEALABLE_FIELDS } from '#identity/actions/reveal_person_pii'

/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** Filters of the people list (query string). */
export const peopleFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  type: vine.enum(IDENTITY_TYPES).optional(),
  status: vine.enum(PERSON_STATUSES).optional(),
  unit: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})

/** The public id in /console/people/:publicId. */
export const personParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/**
 * A filter form sends every field, empty ones as "": those mean "no filter"
 * and are dropped before validation.
 */
export function withoutBlankFilters(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(input).filter(
      ([, value]) => value !== '' && value !== undefined && value !== null
    )
  )
}

/**
 * The person form. Shapes and lengths only: the registry's own rules (ID
 * check digit, phone format, unique number, known unit) are checked by the
 * SavePerson action, which imports and the API share.
 */
export const personFormValidator = vine.create({
  personNo: vine.string().trim().maxLength(32),
  name: vine.string().trim().maxLength(64),
  gender: vine.enum(GENDERS),
  identityType: vine.enum(IDENTITY_TYPES),
  orgUnit: vine.string().trim().toUpperCase().regex(PUBLIC_ID),
  status: vine.enum(PERSON_STATUSES).optional(),
  enrollmentYear: vine.number().withoutDecimals().range([1900, 2100]).optional(),
  expectedGraduationDate: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  email: vine.string().trim().maxLength(254).email().optional(),
  phone: vine.string().trim().maxLength(32).optional(),
  idDocType: vine.enum(ID_DOC_TYPES).optional(),
  idDocNumber: vine.string().trim().maxLength(32).optional(),
  tags: vine.string().trim().maxLength(800).optional(),
  removePhoto: vine.boolean().optional(),
})

/** A status change: the new status and why. */
export const statusChangeValidator = vine.create({
  status: vine.enum(PERSON_STATUSES),
  reason: vine.string().trim().minLength(2).maxLength(500),
})

/** Which protected field to reveal. */
export const revealValidator = vine.create({
  field: vine.enum(REVEALABLE_FIELDS),
})
