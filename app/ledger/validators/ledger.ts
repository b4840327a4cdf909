import vine from '@vinejs/vine'
import { IDEMPOTENCY_KEY } from '#ledger/services/requests'
import { MAX_MEMO_LENGTH } from '#ledger/actions/post_transfer'

/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

const page = () => vine.number().withoutDecimals().range([1, 1_000_000]).optional()

/** The public id in /console/ledger/people/:publicId and /console/ledger/transfers/:publicId. */
export const publicIdParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** The finance home: find a person. */
export const walletSearchValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  page: page(),
})

/** The statement's page number. */
export const statementQueryValidator = vine.create({ page: page() })

/**
 * The counter top-up form. The amount stays text here: Money.parse reads it
 * without floating point and says what is wrong with it.
 */
export const topUpValidator = vine.create({
  amount: vine.string().trim().maxLength(20),
  memo: vine.string().trim().maxLength(MAX_MEMO_LENGTH).optional(),
  idempotencyKey: vine.string().regex(IDEMPOTENCY_KEY),
})

/** The reversal form of a transfer. */
export const reversalValidator = vine.create({
  memo: vine.string().trim().maxLength(MAX_MEMO_LENGTH).optional(),
  idempotencyKey: vine.string().regex(IDEMPOTENCY_KEY),
})

/** The trial balance's day (yyyy-MM-dd in the school's time zone). */
export const trialBalanceValidator = vine.create({
  day: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
})

/**
 * A form or filter sends every field, empty ones as "": those mean "not
 * given" and are left out before validation.
 */
export function withoutBlanks(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(input).filter(
      ([, value]) => value !== '' && value !== undefined && value !== null
    )
  )
}
