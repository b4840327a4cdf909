import vine from '@vinejs/vine'

/**
 * The portal's card-to-card form (转账). The amount stays a string here:
 * Money.parse turns it into fen without floating point.
 */
const fields = {
  recipient: vine.string().trim().minLength(1).maxLength(64),
  amount: vine.string().trim().maxLength(20),
  memo: vine.string().trim().maxLength(60).optional(),
}

/** The first step: whom and how much, before the recipient's masked name is shown. */
export const cardToCardReviewValidator = vine.create(fields)

/** The confirmed form: the same fields, the payment PIN and the form's own key. */
export const cardToCardConfirmValidator = vine.create({
  ...fields,
  pin: vine.string().trim().maxLength(12).optional(),
  idempotencyKey: vine
    .string()
    .trim()
    .regex(/^[0-9A-Za-z]{8,40}$/),
})
