import { fail, ok, type Result } from '#core/services/result'

/**
 * Physical card UIDs as readers print them: 4, 7 or 10 bytes (ISO/IEC
 * 14443-3 single, double and triple size), in hex. Readers disagree on
 * separators and case, so a UID is stored without separators in upper case.
 */

export const UID_LENGTHS = [8, 14, 20] as const

/** "04:a2:2b:3c" → "04A22B3C"; refuses anything but 4, 7 or 10 hex bytes. */
export function normalizeUid(input: string): Result<string, 'uid_invalid'> {
  const compact = String(input ?? '')
    .replace(/[\s:-]+/g, '')
    .toUpperCase()
  if (!/^[0-9A-F]+$/.test(compact)) return fail('uid_invalid')
  if (!(UID_LENGTHS as readonly number[]).includes(compact.length)) return fail('uid_invalid')
  return ok(compact)
}
