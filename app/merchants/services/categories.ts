/** What a merchant sells; subsidies and vouchers can be limited to categories. */
export const MERCHANT_CATEGORIES = [
  'canteen',
  'supermarket',
  'bus',
  'printing',
  'laundry',
  'other',
] as const

export type MerchantCategory = (typeof MERCHANT_CATEGORIES)[number]

export function isMerchantCategory(value: unknown): value is MerchantCategory {
  return typeof value === 'string' && (MERCHANT_CATEGORIES as readonly string[]).includes(value)
}

export const MERCHANT_STATUSES = ['enabled', 'disabled'] as const

export type MerchantStatus = (typeof MERCHANT_STATUSES)[number]
