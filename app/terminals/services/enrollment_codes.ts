import { createHash, randomInt } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** Enrollment codes live this long unless the console says otherwise. */
export const DEFAULT_ENROLLMENT_HOURS = 24
export const MAX_ENROLLMENT_HOURS = 168

/**
 * A one-time enrollment code: 16 Crockford base32 characters (80 bits) in
 * groups of four, e.g. "7K3M-Q9TX-2BHD-W4RC". Shown once in the console;
 * only its hash is stored.
 */
export function newEnrollmentCode(): string {
  let code = ''
  for (let i = 0; i < 16; i++) {
    if (i > 0 && i % 4 === 0) code += '-'
    code += ALPHABET[randomInt(32)]
  }
  return code
}

/**
 * The canonical form a code is hashed in: upper case, without separators or
 * spaces, with the letters people confuse read as Crockford digits (O → 0,
 * I and L → 1).
 */
export function normalizeEnrollmentCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1')
}

/** SHA-256 of the normalized code, lower-case hex: what the terminals table keeps. */
export function hashEnrollmentCode(input: string): string {
  return createHash('sha256')
    .update(`quad-terminal-enrollment:${normalizeEnrollmentCode(input)}`)
    .digest('hex')
}
