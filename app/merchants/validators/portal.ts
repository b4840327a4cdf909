import vine from '@vinejs/vine'

export const merchantCodePayValidator = vine.create({
  amount: vine.string().trim().maxLength(20),
  pin: vine.string().trim().maxLength(12).optional(),
  idempotencyKey: vine
    .string()
    .trim()
    .regex(/^[0-9A-Za-z]{8,40}$/),
})

export const pinValidator = vine.create({
  currentPin: vine.string().trim().maxLength(12).optional(),
  pin: vine
    .string()
    .trim()
    .regex(/^\d{6}$/),
  pinConfirmation: vine
    .string()
    .trim()
    .regex(/^\d{6}$/),
})
