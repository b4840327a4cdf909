/**
 * Byte helpers for the campus-code library. Plain Uint8Array and DataView
 * only, so that the same code runs in Node, in browsers and on terminals.
 */

/** Joins byte arrays into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** A copy backed by its own ArrayBuffer (what WebCrypto and structured clone want). */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length)
  out.set(bytes)
  return out
}

/** Compares two byte arrays without stopping at the first difference. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let index = 0; index < a.length; index++) difference |= a[index] ^ b[index]
  return difference === 0
}

const HEX = '0123456789abcdef'

/** Lower-case hexadecimal. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += HEX[byte >> 4] + HEX[byte & 15]
  return out
}

/** Parses hexadecimal (either case); throws on odd length or a non-hex character. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new TypeError('Not a hexadecimal byte string')
  }
  const out = new Uint8Array(text.length / 2)
  for (let index = 0; index < out.length; index++) {
    out[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16)
  }
  return out
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Base64url without padding (RFC 4648 §5), the form key ids and stored credentials use. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = ''
  let index = 0
  for (; index + 2 < bytes.length; index += 3) {
    const value = (bytes[index] << 16) | (bytes[index + 1] << 8) | bytes[index + 2]
    out +=
      BASE64URL[value >> 18] +
      BASE64URL[(value >> 12) & 63] +
      BASE64URL[(value >> 6) & 63] +
      BASE64URL[value & 63]
  }
  const rest = bytes.length - index
  if (rest === 1) {
    const value = bytes[index] << 16
    out += BASE64URL[value >> 18] + BASE64URL[(value >> 12) & 63]
  } else if (rest === 2) {
    const value = (bytes[index] << 16) | (bytes[index + 1] << 8)
    out += BASE64URL[value >> 18] + BASE64URL[(value >> 12) & 63] + BASE64URL[(value >> 6) & 63]
  }
  return out
}

/** Parses unpadded base64url; throws on any other character or an impossible length. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (text.length % 4 === 1 || !/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new TypeError('Not a base64url string')
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4))
  let buffer = 0
  let bits = 0
  let offset = 0
  for (const char of text) {
    buffer = ((buffer << 6) | BASE64URL.indexOf(char)) & 0xffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[offset++] = (buffer >> bits) & 0xff
    }
  }
  // Leftover bits must be zero, otherwise two texts would decode to the same bytes.
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new TypeError('Not a canonical base64url string')
  return out
}

/** ASCII text as bytes (domain-separation labels are ASCII). */
export function asciiBytes(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length)
  for (let index = 0; index < text.length; index++) out[index] = text.charCodeAt(index) & 0x7f
  return out
}

/** SHA-256 through WebCrypto. */
export async function sha256(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', copyBytes(data)))
}
