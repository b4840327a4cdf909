import vine from '@vinejs/vine'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '#identity/services/password_policy'

/** Time zones the wizard offers: every IANA zone this runtime knows. */
export const TIME_ZONES = Intl.supportedValuesOf('timeZone')

/** The school and its first super-admin: the same rules for the wizard and appliance:setup. */
function schoolAndAdminFields() {
  return {
    schoolName: vine.string().trim().minLength(2).maxLength(120),
    schoolCode: vine
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{2,32}$/),
    timeZone: vine.string().in(TIME_ZONES),
    defaultLocale: vine.enum(['zh-CN', 'en'] as const),
    username: vine
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z][a-z0-9._-]{2,63}$/),
    displayName: vine.string().trim().minLength(1).maxLength(100),
    email: vine.string().trim().email().maxLength(254).optional(),
  }
}

/** The first-run wizard: the school and its first super-admin. */
export const setupValidator = vine.create({
  ...schoolAndAdminFields(),
  password: vine
    .string()
    .minLength(PASSWORD_MIN_LENGTH)
    .maxLength(PASSWORD_MAX_LENGTH)
    .regex(/^(?=.*[A-Za-z])(?=.*\d)/)
    .confirmed({ confirmationField: 'passwordConfirmation' }),
  totpCode: vine
    .string()
    .trim()
    .regex(/^\d{6}$/),
})

/**
 * `node ace appliance:setup`: the wizard's fields without a confirmation or a
 * TOTP code (the admin enrolls TOTP at the first sign-in). The password
 * policy is checked by the SetUpSchool action, as for the wizard.
 */
export const setupCommandValidator = vine.create({
  ...schoolAndAdminFields(),
  password: vine.string(),
})
