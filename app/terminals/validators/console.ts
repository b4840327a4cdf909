import vine from '@vinejs/vine'
import { TERMINAL_KINDS, TERMINAL_STATUSES } from '#terminals/models/terminal'
import { MAX_ENROLLMENT_HOURS } from '#terminals/services/enrollment_codes'

export const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

export const terminalParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

export const terminalFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  kind: vine.enum(TERMINAL_KINDS).optional(),
  status: vine.enum([...TERMINAL_STATUSES, 'online', 'offline'] as const).optional(),
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})

const fen = () => vine.number().withoutDecimals().range([0, 4_294_967_295]).optional()

/** The console's "new terminal" form. */
export const terminalFormValidator = vine.create({
  name: vine.string().trim().minLength(1).maxLength(120),
  kind: vine.enum(TERMINAL_KINDS),
  location: vine.string().trim().maxLength(200).optional(),
  shop: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  enrollmentHours: vine.number().withoutDecimals().range([1, MAX_ENROLLMENT_HOURS]).optional(),
  offlineCountPerDay: vine.number().withoutDecimals().range([0, 255]).optional(),
  offlineAmountPerDay: fen(),
  offlineSingleAmount: fen(),
})

export const revokeValidator = vine.create({
  reason: vine.string().trim().maxLength(200).optional(),
})

export const enrollmentCodeValidator = vine.create({
  enrollmentHours: vine.number().withoutDecimals().range([1, MAX_ENROLLMENT_HOURS]).optional(),
})

/** The terminal edit form. */
export const terminalEditValidator = vine.create({
  name: vine.string().trim().minLength(1).maxLength(120),
  location: vine.string().trim().maxLength(200).optional(),
  shop: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  offlineCountPerDay: vine.number().withoutDecimals().range([0, 255]).optional(),
  offlineAmountPerDay: fen(),
  offlineSingleAmount: fen(),
})

const kindLimits = () =>
  vine.object({
    countPerDay: vine.number().withoutDecimals().range([0, 255]),
    amountPerDay: vine.number().withoutDecimals().range([0, 4_294_967_295]),
    singleAmount: vine.number().withoutDecimals().range([0, 4_294_967_295]),
  })

/** The default offline limits per kind. */
export const kindLimitsValidator = vine.create({
  pos: kindLimits(),
  gate: kindLimits(),
  door: kindLimits(),
  checkin: kindLimits(),
  kiosk: kindLimits(),
})
