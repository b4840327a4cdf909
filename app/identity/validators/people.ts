import vine from '@vinejs/vine'
import { IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'

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
