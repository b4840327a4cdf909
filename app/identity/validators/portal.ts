import vine from '@vinejs/vine'
import { PORTAL_PASSWORD_MAX_LENGTH } from '#identity/services/portal_passwords'

/** Sign-in: person number (or e-mail) and password; "remember this device" is a checkbox. */
export const portalSignInValidator = vine.create({
  personNo: vine.string().trim().minLength(1).maxLength(254),
  password: vine.string().minLength(1).maxLength(256),
  remember: vine.boolean().optional(),
  next: vine.string().maxLength(300).optional(),
})

export const portalCodeValidator = vine.create({
  code: vine
    .string()
    .trim()
    .regex(/^\d{6}$/),
})

/** New password twice; the rules themselves are checked by the action, with reasons. */
export const portalNewPasswordValidator = vine.create({
  newPassword: vine.string().minLength(1).maxLength(PORTAL_PASSWORD_MAX_LENGTH),
  passwordConfirmation: vine.string().sameAs('newPassword'),
})

export const portalChangePasswordValidator = vine.create({
  currentPassword: vine.string().minLength(1).maxLength(256),
  newPassword: vine.string().minLength(1).maxLength(PORTAL_PASSWORD_MAX_LENGTH),
  passwordConfirmation: vine.string().sameAs('newPassword'),
})

export const portalCurrentPasswordValidator = vine.create({
  currentPassword: vine.string().minLength(1).maxLength(256),
})

export const portalForgotValidator = vine.create({
  personNo: vine.string().trim().minLength(1).maxLength(254),
})

/** Ids in portal URLs: ULIDs of sessions, and 43-character secrets. */
export const portalSessionParamsValidator = vine.create({
  publicId: vine
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[0-9A-Z]{26}$/),
})

export const portalAccountFormValidator = vine.create({
  clearSecondFactor: vine.boolean().optional(),
})
