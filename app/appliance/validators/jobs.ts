import vine from '@vinejs/vine'
import { JOB_STATUSES } from '#appliance/services/jobs'

/** The jobs list's query string: status filter, search and page. */
export const jobFiltersValidator = vine.create({
  status: vine.enum(JOB_STATUSES).optional(),
  q: vine.string().trim().maxLength(100).optional(),
  page: vine.number().withoutDecimals().min(1).max(100_000).optional(),
})

/** A job's public id in a URL (a ULID). */
export const jobIdValidator = vine.create({
  id: vine
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
})
