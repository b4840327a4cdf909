import vine from '@vinejs/vine'

const DAY = /^\d{4}-\d{2}-\d{2}$/
const TIME = /^\d{1,2}:\d{2}$/

export const batchFormValidator = vine.compile(
  vine.object({
    name: vine.string().trim().minLength(1).maxLength(100),
    audience: vine.string().trim().maxLength(26).optional(),
    personNumbers: vine.string().maxLength(2_000_000).optional(),
    amount: vine.string().trim().maxLength(20).optional(),
    meals: vine.number().withoutDecimals().min(1).max(200).optional(),
    mealValue: vine.string().trim().maxLength(20).optional(),
    mealWindows: vine
      .array(vine.enum(['breakfast', 'lunch', 'dinner']))
      .maxLength(3)
      .optional(),
    categories: vine.string().trim().maxLength(500).optional(),
    identityTypes: vine.string().trim().maxLength(500).optional(),
    timeFrom: vine.string().trim().regex(TIME).optional(),
    timeTo: vine.string().trim().regex(TIME).optional(),
    expiresOn: vine.string().trim().regex(DAY),
    memo: vine.string().trim().maxLength(255).optional(),
    preview: vine.string().optional(),
  })
)

const WALLET = vine.enum(['subsidy', 'voucher', 'cash'])

export const walletSettingsValidator = vine.compile(
  vine.object({
    first: WALLET,
    second: WALLET,
    third: WALLET,
    cardToCard: vine.string().optional(),
    maxPerTransfer: vine.string().trim().maxLength(20),
    maxPerDay: vine.string().trim().maxLength(20),
    breakfastFrom: vine.string().trim().regex(TIME).optional(),
    breakfastTo: vine.string().trim().regex(TIME).optional(),
    lunchFrom: vine.string().trim().regex(TIME).optional(),
    lunchTo: vine.string().trim().regex(TIME).optional(),
    dinnerFrom: vine.string().trim().regex(TIME).optional(),
    dinnerTo: vine.string().trim().regex(TIME).optional(),
  })
)

export const reconciliationValidator = vine.compile(
  vine.object({
    from: vine.string().trim().regex(DAY).optional(),
    to: vine.string().trim().regex(DAY).optional(),
  })
)
