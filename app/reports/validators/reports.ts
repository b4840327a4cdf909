import vine from '@vinejs/vine'
import { STATEMENT_STATUSES } from '#reports/models/settlement_statement'

/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/
const DAY = /^\d{4}-\d{2}-\d{2}$/

const page = () => vine.number().withoutDecimals().range([1, 1_000_000]).optional()

export const publicIdParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** The portal wallet page: a page of the statement, optionally one month (yyyy-MM). */
export const walletQueryValidator = vine.create({
  page: page(),
  month: vine
    .string()
    .trim()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
    .optional(),
})

/** The statements list: one day, optionally one status. */
export const statementsQueryValidator = vine.create({
  day: vine.string().trim().regex(DAY).optional(),
  status: vine.enum(STATEMENT_STATUSES).optional(),
})

/** Generating statements from the console. */
export const generateValidator = vine.create({
  day: vine.string().trim().regex(DAY),
})

/** A recorded payout: the bank's reference, if any. */
export const payoutValidator = vine.create({
  reference: vine.string().trim().maxLength(100).optional(),
})

/** The finance reports' range, and the export's section and format. */
export const rangeValidator = vine.create({
  from: vine.string().trim().regex(DAY).optional(),
  to: vine.string().trim().regex(DAY).optional(),
})

export const exportValidator = vine.create({
  from: vine.string().trim().regex(DAY).optional(),
  to: vine.string().trim().regex(DAY).optional(),
  section: vine.enum(['top_ups', 'subsidies', 'spending'] as const),
  format: vine.enum(['csv', 'xlsx'] as const),
})
