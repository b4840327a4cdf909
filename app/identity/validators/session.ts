import vine from '@vinejs/vine'

export const signInValidator = vine.create({
  username: vine.string().trim().minLength(1).maxLength(64),
  password: vine.string().minLength(1).maxLength(256),
})

export const secondFactorValidator = vine.create({
  code: vine
    .string()
    .trim()
    .regex(/^\d{6}$/),
})
