import vine from '@vinejs/vine'

/** The text a scanner typed: a format-1 code is 305 characters; longer is refused by the library. */
export const codeVerifyValidator = vine.create({
  code: vine.string().maxLength(2048),
})

const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/

/** Filters of the replay events list: days in the school's time zone, a card or person number. */
export const replayFiltersValidator = vine.create({
  from: vine.string().regex(DAY).optional(),
  to: vine.string().regex(DAY).optional(),
  q: vine.string().trim().maxLength(64).optional(),
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})
