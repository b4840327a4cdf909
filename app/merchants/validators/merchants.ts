import vine from '@vinejs/vine'
import { MERCHANT_CATEGORIES } from '#merchants/services/categories'

/** A merchant form. Split rules come as lines "party=basis points". */
export const merchantValidator = vine.create({
  code: vine
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,32}$/),
  name: vine.string().trim().minLength(1).maxLength(100),
  nameEn: vine.string().trim().maxLength(100).optional(),
  category: vine.enum(MERCHANT_CATEGORIES),
  contactName: vine.string().trim().maxLength(100).optional(),
  commissionBp: vine.number().withoutDecimals().range([0, 10_000]),
  splitRules: vine.string().trim().minLength(1).maxLength(1000),
  refundWindowDays: vine.number().withoutDecimals().range([0, 366]),
})

export const shopValidator = vine.create({
  name: vine.string().trim().minLength(1).maxLength(100),
  nameEn: vine.string().trim().maxLength(100).optional(),
  location: vine.string().trim().maxLength(200).optional(),
  category: vine.enum(MERCHANT_CATEGORIES).optional(),
})

export const refundValidator = vine.create({
  amount: vine.string().trim().maxLength(20),
  reason: vine.string().trim().maxLength(200).optional(),
  authority: vine.enum(['merchant', 'finance'] as const),
  idempotencyKey: vine
    .string()
    .trim()
    .regex(/^[\x21-\x7E]{8,128}$/),
})

/** Payment limits in yuan (as typed), the PIN threshold, and the refund window. */
export const paymentSettingsValidator = vine.create({
  codeMaxPerPayment: vine.string().trim().maxLength(20),
  codeMaxPerDay: vine.string().trim().maxLength(20),
  merchantCodeMaxPerPayment: vine.string().trim().maxLength(20),
  merchantCodeMaxPerDay: vine.string().trim().maxLength(20),
  pinThreshold: vine.string().trim().maxLength(20),
  refundWindowDays: vine.number().withoutDecimals().range([0, 366]),
})

/** "operator=8500\nschool=1500" → parties; shape only, checkSplitRules decides. */
export function parseSplitLines(text: string) {
  return text
    .split(/[\n,;]+/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [party, share] = line.split(/[=:]/).map((part) => part?.trim() ?? '')
      return { party, basisPoints: /^\d{1,5}$/.test(share) ? Number(share) : Number.NaN }
    })
}
