/**
 * Console password policy: at least 12 characters with letters and digits,
 * and not built from the username. Long passphrases are welcome.
 */
export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 128

export type PasswordProblem =
  'too_short' | 'too_long' | 'needs_letter_and_digit' | 'contains_username'

export function passwordProblems(password: string, username?: string): PasswordProblem[] {
  const problems: PasswordProblem[] = []
  if (password.length < PASSWORD_MIN_LENGTH) problems.push('too_short')
  if (password.length > PASSWORD_MAX_LENGTH) problems.push('too_long')
  if (!/[A-Za-z]/.test(password) || !/\d/.test(password)) problems.push('needs_letter_and_digit')
  if (username && username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) {
    problems.push('contains_username')
  }
  return problems
}
