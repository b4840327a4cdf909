/**
 * Base45 (RFC 9285): bytes as text from the 45-character QR alphanumeric
 * set, so that a QR code can hold them in alphanumeric mode (5.5 bits per
 * character instead of 8 in byte mode).
 *
 * Every two bytes [a, b] become n = a·256 + b written as three characters
 * c + d·45 + e·45² (least significant first); a final single byte becomes two
 * characters. Decoding is strict, as RFC 9285 §6 requires: any character
 * outside the alphabet, a length of 3k+1, or a group whose value does not fit
 * is an error, so that every accepted text has exactly one byte string.
 */
import { fail, ok, type Result } from './result.js'

export const BASE45_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'

/** Digit of each character code below 128, or -1 outside the alphabet. */
const DIGITS = new Int8Array(128).fill(-1)
for (let index = 0; index < BASE45_ALPHABET.length; index++) {
  DIGITS[BASE45_ALPHABET.charCodeAt(index)] = index
}

function digitAt(text: string, position: number): number {
  const code = text.charCodeAt(position)
  return code < 128 ? DIGITS[code] : -1
}

export type Base45Error =
  'base45_invalid_character' | 'base45_invalid_length' | 'base45_out_of_range'

/** Encodes bytes as Base45 text. */
export function base45Encode(bytes: Uint8Array): string {
  let out = ''
  let index = 0
  for (; index + 1 < bytes.length; index += 2) {
    let value = bytes[index] * 256 + bytes[index + 1]
    const c = value % 45
    value = (value - c) / 45
    const d = value % 45
    const e = (value - d) / 45
    out += BASE45_ALPHABET[c] + BASE45_ALPHABET[d] + BASE45_ALPHABET[e]
  }
  if (index < bytes.length) {
    const value = bytes[index]
    out += BASE45_ALPHABET[value % 45] + BASE45_ALPHABET[Math.floor(value / 45)]
  }
  return out
}

/** Length of the Base45 text for a byte string of this length. */
export function base45Length(byteLength: number): number {
  return Math.floor(byteLength / 2) * 3 + (byteLength % 2) * 2
}

/** Decodes Base45 text strictly; see the module comment for what is refused. */
export function base45Decode(text: string): Result<Uint8Array<ArrayBuffer>, Base45Error> {
  const length = text.length
  if (length % 3 === 1) return fail('base45_invalid_length', { length })
  const out = new Uint8Array(Math.floor(length / 3) * 2 + (length % 3 === 2 ? 1 : 0))
  let offset = 0
  let index = 0
  // Whole groups of three characters: two bytes each.
  for (; index + 3 <= length; index += 3) {
    const c = digitAt(text, index)
    const d = digitAt(text, index + 1)
    const e = digitAt(text, index + 2)
    if ((c | d | e) < 0) {
      const position = c < 0 ? index : d < 0 ? index + 1 : index + 2
      return fail('base45_invalid_character', { position })
    }
    const value = c + d * 45 + e * 2025
    if (value > 0xffff) return fail('base45_out_of_range', { position: index })
    out[offset++] = value >> 8
    out[offset++] = value & 0xff
  }
  // A final pair of characters: one byte.
  if (index < length) {
    const c = digitAt(text, index)
    const d = digitAt(text, index + 1)
    if ((c | d) < 0) {
      return fail('base45_invalid_character', { position: c < 0 ? index : index + 1 })
    }
    const value = c + d * 45
    if (value > 0xff) return fail('base45_out_of_range', { position: index })
    out[offset] = value
  }
  return ok(out)
}
