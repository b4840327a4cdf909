import vine from '@vinejs/vine'
import { DateTime } from 'luxon'
import { ACTOR_TYPES, OUTCOMES } from '#core/services/audit_search'

/** A calendar day as typed in a date field; kept as yyyy-MM-dd (the zone applies later). */
const day = () =>
  vine
    .date({ formats: ['YYYY-MM-DD'] })
    .transform((value) => DateTime.fromJSDate(value, { zone: 'utc' }).toISODate()!)
    .optional()

/** Filters of the audit log list and its CSV export (query string). */
export const auditFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(100).optional(),
  action: vine
    .string()
    .trim()
    .maxLength(64)
    .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/)
    .optional(),
  outcome: vine.enum(OUTCOMES).optional(),
  actor: vine.enum(ACTOR_TYPES).optional(),
  from: day(),
  to: day(),
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})

/** The sequence number in /console/audit/:seq. */
export const auditSeqValidator = vine.create({
  seq: vine.number().withoutDecimals().range([1, Number.MAX_SAFE_INTEGER]),
})

/**
 * A filter form sends every field, empty ones as "": those mean "no filter"
 * and are left out before validation.
 */
export function withoutBlanks(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(input).filter(
      ([, value]) => value !== '' && value !== undefined && value !== null
    )
  )
}
