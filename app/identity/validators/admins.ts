import vine from '@vinejs/vine'
import { assignablePermissions } from '#core/services/permissions'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '#identity/services/password_policy'

/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

export const ADMIN_STATES = ['active', 'disabled', 'locked'] as const

/** The public id in /console/admins/:publicId and /console/roles/:publicId. */
export const publicIdParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** The public ids in /console/admins/:publicId/grants/:grantId. */
export const grantParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
  grantId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** Filters of the account list. */
export const adminFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  state: vine.enum(ADMIN_STATES).optional(),
  page: vine.number().withoutDecimals().range([1, 100_000]).optional(),
})

/** A role and where it applies: no unit is the whole school. */
const grantFields = {
  role: vine.string().toUpperCase().regex(PUBLIC_ID),
  unit: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
}

const password = () =>
  vine
    .string()
    .minLength(PASSWORD_MIN_LENGTH)
    .maxLength(PASSWORD_MAX_LENGTH)
    .confirmed({ confirmationField: 'passwordConfirmation' })

/**
 * A new console account and its first grant. The password policy (letters
 * and digits, not the username) is checked again by the action.
 */
export const newAdminValidator = vine.create({
  username: vine
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z][a-z0-9._-]{2,63}$/),
  displayName: vine.string().trim().minLength(1).maxLength(100),
  email: vine.string().trim().email().maxLength(254).optional(),
  password: password(),
  ...grantFields,
})

/** One more grant for an account. */
export const newGrantValidator = vine.create(grantFields)

/** A new password set by an admin for someone else's account. */
export const resetPasswordValidator = vine.create({ password: password() })

/** A custom role: names in both languages and the permissions it grants. */
export const roleFormValidator = vine.create({
  nameZh: vine.string().trim().minLength(1).maxLength(64),
  nameEn: vine.string().trim().minLength(1).maxLength(64),
  description: vine.string().trim().maxLength(500).optional(),
  permissions: vine.array(vine.enum(assignablePermissions())).minLength(1).distinct(),
})
