/**
 * Form fields never kept for refilling a form after an error: flashed values
 * are stored in the sessions table until the next request.
 */
export const NEVER_FLASHED = [
  '_csrf',
  '_method',
  'password',
  'password_confirmation',
  'passwordConfirmation',
  'currentPassword',
  'newPassword',
  'totpCode',
  'code',
  'secret',
  'token',
]
