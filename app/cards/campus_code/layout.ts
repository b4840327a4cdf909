/**
 * The binary layout of a credential and of a campus code, format 1. Every
 * field has a fixed size and offset, big-endian, so that a terminal vendor
 * can read it with a table (docs/campus-code.md) and no parser library.
 *
 * Byte budget: a QR code of version 10 at error-correction level M holds 311
 * alphanumeric characters, which is 207 bytes of Base45. Two Ed25519
 * signatures (128) and the device public key (32) take 160 of them; the
 * other fields take 43, for 203 bytes (305 characters) in all.
 */
import { fromBase64Url, toHex } from './bytes.js'
import { fail, ok, type Result } from './result.js'

/** High nibble of the first byte: "this is a campus code". */
export const FORMAT_MAGIC = 0xc0
/** Low nibble of the first byte: the layout version described here. */
export const FORMAT_VERSION = 1
export const FORMAT_BYTE = FORMAT_MAGIC | FORMAT_VERSION

export const ISSUER_KEY_ID_LENGTH = 4
export const CREDENTIAL_BODY_LENGTH = 69
export const CREDENTIAL_LENGTH = CREDENTIAL_BODY_LENGTH + 64
export const CODE_BODY_LENGTH = CREDENTIAL_LENGTH + 6
export const CODE_LENGTH = CODE_BODY_LENGTH + 64
/** Largest size the QR budget allows (version 10, level M, alphanumeric). */
export const MAX_CODE_BYTES = 207

/** A credential never covers more than 7 days. */
export const MAX_CREDENTIAL_LIFETIME_SECONDS = 7 * 24 * 3600

/** Byte offsets of format 1 (see docs/campus-code.md §3). */
export const OFFSETS = {
  format: 0,
  issuerKeyId: 1,
  cardNo: 5,
  cardType: 13,
  devicePublicKey: 14,
  issuedAt: 46,
  validFrom: 50,
  validUntil: 54,
  maxCountPerDay: 58,
  maxAmountPerDayFen: 59,
  maxSingleAmountFen: 63,
  permissions: 67,
  issuerSignature: 69,
  codeTime: 133,
  counter: 137,
  deviceSignature: 139,
} as const

/**
 * Permission tags: one bit each in a 16-bit field. Terminals act only on the
 * tags they know and ignore other bits, so that a tag can be added without a
 * new format version.
 */
export const PERMISSION_TAGS = {
  /** Pay at POS terminals (消费). */
  payment: 0,
  /** Open doors and gates (门禁/闸机). */
  access: 1,
  /** Sign in and check in: attendance, events, enrollment (签到/报到). */
  sign_in: 2,
} as const
export type PermissionTag = keyof typeof PERMISSION_TAGS

/** The limits a terminal enforces while offline, per card and calendar day. */
export interface OfflineLimits {
  /** Offline payments per day, 0–255; 0 means no offline payment. */
  maxCountPerDay: number
  /** Sum of offline payments per day in fen, 0–4,294,967,295. */
  maxAmountPerDayFen: number
  /** Largest single offline payment in fen, 0–4,294,967,295. */
  maxSingleAmountFen: number
}

/** What the appliance signs for one device. */
export interface CredentialFields {
  /** The card number: 1 to 16 decimal digits, leading zeros kept (cards.card_no). */
  cardNo: string
  /** The card type's code, 0–255. */
  cardType: number
  /** The device's raw Ed25519 public key (32 bytes). */
  devicePublicKey: Uint8Array
  /** Unix seconds. */
  issuedAt: number
  /** Unix seconds, inclusive. */
  validFrom: number
  /** Unix seconds, exclusive; at most 7 days after issuedAt and validFrom. */
  validUntil: number
  offlineLimits: OfflineLimits
  permissions: readonly PermissionTag[]
}

/** A decoded credential (its signature not yet checked). */
export interface Credential extends CredentialFields {
  version: number
  /** The 4-byte issuer key id of the code, hex; the appliance's key id starts with these bytes. */
  issuerKeyId: string
  /** The permission field as sent, including bits this library has no name for. */
  permissionBits: number
  /** The full signed credential (133 bytes). */
  bytes: Uint8Array
}

/** A decoded campus code (no signature checked). */
export interface DecodedCode {
  credential: Credential
  /** Unix seconds at which the device made the code. */
  codeTime: number
  counter: number
  bytes: Uint8Array
}

export type LayoutError = 'malformed' | 'unsupported_version'

const UINT32_MAX = 0xffffffff

function requireInteger(name: string, value: number, max: number, min = 0) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
}

export const CARD_NO_BYTES = 8

/**
 * The card number as packed BCD, the way EMV stores an account number:
 * two digits per byte, left-justified, the unused nibbles at the end 0xF.
 * "260123456789" → 26 01 23 45 67 89 FF FF. Leading zeros survive.
 */
export function encodeCardNo(cardNo: string): Uint8Array<ArrayBuffer> {
  if (!/^\d{1,16}$/.test(cardNo)) {
    throw new RangeError(`cardNo must be 1 to 16 decimal digits, got ${cardNo}`)
  }
  const nibbles = [...cardNo].map(Number)
  while (nibbles.length < CARD_NO_BYTES * 2) nibbles.push(0xf)
  const out = new Uint8Array(CARD_NO_BYTES)
  for (let index = 0; index < CARD_NO_BYTES; index++) {
    out[index] = (nibbles[index * 2] << 4) | nibbles[index * 2 + 1]
  }
  return out
}

/** Reads a packed-BCD card number; null when the bytes are not one. */
export function decodeCardNo(bytes: Uint8Array): string | null {
  let digits = ''
  let ended = false
  for (const byte of bytes.subarray(0, CARD_NO_BYTES)) {
    for (const nibble of [byte >> 4, byte & 0x0f]) {
      if (nibble === 0xf) ended = true
      else if (nibble > 9 || ended) return null
      else digits += String(nibble)
    }
  }
  return digits.length > 0 ? digits : null
}

/** The bit field of a list of tags. */
export function permissionBits(tags: readonly PermissionTag[]): number {
  let bits = 0
  for (const tag of tags) {
    const bit = PERMISSION_TAGS[tag]
    if (bit === undefined) throw new RangeError(`Unknown permission tag ${tag}`)
    bits |= 1 << bit
  }
  return bits
}

/** The known tags of a bit field, in bit order. */
export function permissionTags(bits: number): PermissionTag[] {
  return (Object.keys(PERMISSION_TAGS) as PermissionTag[]).filter(
    (tag) => (bits >> PERMISSION_TAGS[tag]) & 1
  )
}

/** The 4 code bytes of an appliance key id (base64url of 8 bytes). */
export function issuerKeyIdBytes(kid: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(kid)
  } catch {
    throw new RangeError(`Not an issuer key id: ${kid}`)
  }
  if (bytes.length < ISSUER_KEY_ID_LENGTH) throw new RangeError(`Not an issuer key id: ${kid}`)
  return bytes.subarray(0, ISSUER_KEY_ID_LENGTH)
}

/**
 * Writes the signed part of a credential (69 bytes). Throws on a field out of
 * range: the caller (the card module) builds fields from its own records, so
 * a bad value is a bug, not a user error.
 */
export function encodeCredentialBody(
  fields: CredentialFields,
  issuerKeyId: Uint8Array
): Uint8Array<ArrayBuffer> {
  const cardNo = encodeCardNo(fields.cardNo)
  requireInteger('cardType', fields.cardType, 255)
  if (fields.devicePublicKey.length !== 32) throw new RangeError('devicePublicKey must be 32 bytes')
  requireInteger('issuedAt', fields.issuedAt, UINT32_MAX)
  requireInteger('validFrom', fields.validFrom, UINT32_MAX)
  requireInteger('validUntil', fields.validUntil, UINT32_MAX)
  if (fields.validUntil <= fields.validFrom) {
    throw new RangeError('validUntil must be after validFrom')
  }
  if (
    fields.validUntil - Math.min(fields.issuedAt, fields.validFrom) >
    MAX_CREDENTIAL_LIFETIME_SECONDS
  ) {
    throw new RangeError('A credential is valid for at most 7 days')
  }
  const limits = fields.offlineLimits
  requireInteger('offlineLimits.maxCountPerDay', limits.maxCountPerDay, 255)
  requireInteger('offlineLimits.maxAmountPerDayFen', limits.maxAmountPerDayFen, UINT32_MAX)
  requireInteger('offlineLimits.maxSingleAmountFen', limits.maxSingleAmountFen, UINT32_MAX)

  const out = new Uint8Array(CREDENTIAL_BODY_LENGTH)
  const view = new DataView(out.buffer)
  out[OFFSETS.format] = FORMAT_BYTE
  out.set(issuerKeyId.subarray(0, ISSUER_KEY_ID_LENGTH), OFFSETS.issuerKeyId)
  out.set(cardNo, OFFSETS.cardNo)
  out[OFFSETS.cardType] = fields.cardType
  out.set(fields.devicePublicKey, OFFSETS.devicePublicKey)
  view.setUint32(OFFSETS.issuedAt, fields.issuedAt)
  view.setUint32(OFFSETS.validFrom, fields.validFrom)
  view.setUint32(OFFSETS.validUntil, fields.validUntil)
  out[OFFSETS.maxCountPerDay] = limits.maxCountPerDay
  view.setUint32(OFFSETS.maxAmountPerDayFen, limits.maxAmountPerDayFen)
  view.setUint32(OFFSETS.maxSingleAmountFen, limits.maxSingleAmountFen)
  view.setUint16(OFFSETS.permissions, permissionBits(fields.permissions))
  return out
}

/** Checks the format byte: a campus code at all, and a version this library reads. */
export function checkFormat(bytes: Uint8Array): Result<void, LayoutError> {
  if (bytes.length === 0 || (bytes[0] & 0xf0) !== FORMAT_MAGIC) return fail('malformed')
  if ((bytes[0] & 0x0f) !== FORMAT_VERSION) {
    return fail('unsupported_version', { version: bytes[0] & 0x0f })
  }
  return ok(undefined)
}

/** Reads a signed credential (133 bytes) at the start of `bytes`; null if its card number is not BCD. */
function readCredential(bytes: Uint8Array): Credential | null {
  const cardNo = decodeCardNo(bytes.subarray(OFFSETS.cardNo, OFFSETS.cardType))
  if (cardNo === null) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, CREDENTIAL_LENGTH)
  const permissionField = view.getUint16(OFFSETS.permissions)
  return {
    version: bytes[0] & 0x0f,
    issuerKeyId: toHex(bytes.subarray(OFFSETS.issuerKeyId, OFFSETS.cardNo)),
    cardNo,
    cardType: bytes[OFFSETS.cardType],
    devicePublicKey: bytes.slice(OFFSETS.devicePublicKey, OFFSETS.issuedAt),
    issuedAt: view.getUint32(OFFSETS.issuedAt),
    validFrom: view.getUint32(OFFSETS.validFrom),
    validUntil: view.getUint32(OFFSETS.validUntil),
    offlineLimits: {
      maxCountPerDay: bytes[OFFSETS.maxCountPerDay],
      maxAmountPerDayFen: view.getUint32(OFFSETS.maxAmountPerDayFen),
      maxSingleAmountFen: view.getUint32(OFFSETS.maxSingleAmountFen),
    },
    permissions: permissionTags(permissionField),
    permissionBits: permissionField,
    bytes: bytes.slice(0, CREDENTIAL_LENGTH),
  }
}

/** Decodes a signed credential without checking its signature. */
export function decodeCredential(bytes: Uint8Array): Result<Credential, LayoutError> {
  const format = checkFormat(bytes)
  if (!format.ok) return format
  if (bytes.length !== CREDENTIAL_LENGTH) return fail('malformed', { length: bytes.length })
  const credential = readCredential(bytes)
  if (!credential) return fail('malformed', { field: 'cardNo' })
  return ok(credential)
}

/** Decodes a campus code's bytes without checking any signature. */
export function decodeCode(bytes: Uint8Array): Result<DecodedCode, LayoutError> {
  const format = checkFormat(bytes)
  if (!format.ok) return format
  if (bytes.length !== CODE_LENGTH) return fail('malformed', { length: bytes.length })
  const credential = readCredential(bytes)
  if (!credential) return fail('malformed', { field: 'cardNo' })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  return ok({
    credential,
    codeTime: view.getUint32(OFFSETS.codeTime),
    counter: view.getUint16(OFFSETS.counter),
    bytes,
  })
}

/**
 * ASCII labels put in front of every signed or hashed message, so that a
 * signature made for one purpose can never be taken for another. They are
 * not part of the transmitted bytes.
 */
export const LABELS = {
  credential: 'QUAD-CC1-CRED',
  code: 'QUAD-CC1-CODE',
  codeId: 'QUAD-CC1-ID',
  proof: 'QUAD-CC1-PROOF',
} as const
