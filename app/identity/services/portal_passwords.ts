import { randomInt } from 'node:crypto'
import hash from '@adonisjs/core/services/hash'

/**
 * Portal password rules. People type these on phones, so the floor is lower
 * than the console's (8 rather than 12), but a password still needs letters
 * and digits and must not contain the person number.
 */
export const PORTAL_PASSWORD_MIN_LENGTH = 8
export const PORTAL_PASSWORD_MAX_LENGTH = 128

export type PortalPasswordProblem =
  'too_short' | 'too_long' | 'needs_letter_and_digit' | 'contains_person_no' | 'same_as_current'

export function portalPasswordProblems(
  password: string,
  personNo: string
): PortalPasswordProblem[] {
  const problems: PortalPasswordProblem[] = []
  if (password.length < PORTAL_PASSWORD_MIN_LENGTH) problems.push('too_short')
  if (password.length > PORTAL_PASSWORD_MAX_LENGTH) problems.push('too_long')
  if (!/\p{L}/u.test(password) || !/\d/.test(password)) problems.push('needs_letter_and_digit')
  if (personNo.length >= 3 && password.toUpperCase().includes(personNo.toUpperCase())) {
    problems.push('contains_person_no')
  }
  return problems
}

/**
 * Lower-case letters and digits that cannot be mistaken for one another when
 * read off a screen and typed on a phone (no 0/o, 1/l/i).
 */
const LETTERS = 'abcdefghjkmnpqrstuvwxyz'
const DIGITS = '23456789'
const ALPHABET = LETTERS + DIGITS

/**
 * A one-time initial password an admin reads out or hands over: three groups
 * of four characters (about 62 bits), with at least one letter and one digit
 * so that it meets the policy it is measured against.
 */
export function generateInitialPassword(): string {
  for (;;) {
    let plain = ''
    for (let i = 0; i < 12; i++) plain += ALPHABET[randomInt(ALPHABET.length)]
    if (/[a-z]/.test(plain) && /\d/.test(plain)) {
      return `${plain.slice(0, 4)}-${plain.slice(4, 8)}-${plain.slice(8)}`
    }
  }
}

export function hashPortalPassword(password: string): Promise<string> {
  return hash.use('scrypt').make(password)
}

let dummy: Promise<string> | undefined

/**
 * Checks a password against a stored hash, or against a throwaway hash when
 * there is none, so that an unknown person number takes as long to refuse as
 * a wrong password.
 */
export async function checkPortalPassword(stored: string | null, password: string) {
  if (stored) return hash.use('scrypt').verify(stored, password)
  dummy ??= hash.use('scrypt').make('not-a-real-password-0')
  await hash.use('scrypt').verify(await dummy, password)
  return false
}
