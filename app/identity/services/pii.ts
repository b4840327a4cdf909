import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { storagePath, writePrivateFile } from '#appliance/services/storage_root'

/**
 * Encryption at rest of personal data (phone numbers, ID document numbers).
 *
 * Two keys, each 32 random bytes in the storage root, separate from the app
 * key so that a leaked session secret does not open the registry:
 * - keys/pii.key encrypts with AES-256-GCM;
 * - keys/pii-index.key computes blind indexes (HMAC-SHA256), so that an
 *   exact phone or ID number can be found without decrypting every row.
 *
 * A ciphertext names the key that made it ("pii1.<keyId>.<iv>.<tag>.<data>"),
 * so keys can rotate later: new writes use the current key and old rows stay
 * readable while a re-encryption runs.
 */

export type PiiField = 'phone' | 'id_doc_number'

interface LoadedKey {
  id: string
  key: Buffer
}

const FORMAT = 'pii1'
const cache = new Map<string, LoadedKey>()

/** Short fingerprint of a key, written into each ciphertext. */
function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8)
}

/** Reads a key file, creating it (mode 0600) with 32 random bytes on first use. */
function loadKey(name: 'pii.key' | 'pii-index.key'): LoadedKey {
  const path = storagePath('keys', name)
  const cached = cache.get(path)
  if (cached) return cached
  let key: Buffer
  if (existsSync(path)) {
    key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url')
    if (key.length !== 32) throw new Error(`${name} must hold 32 bytes (base64url)`)
  } else {
    key = randomBytes(32)
    writePrivateFile(path, `${key.toString('base64url')}\n`)
  }
  const loaded = { id: keyId(key), key }
  cache.set(path, loaded)
  return loaded
}

/** Path of the encryption key, for backup checks and documentation. */
export function piiKeyPath(): string {
  return storagePath('keys', 'pii.key')
}

/** Path of the blind-index key. */
export function piiIndexKeyPath(): string {
  return storagePath('keys', 'pii-index.key')
}

/**
 * Encrypts one value of one field. The field name is bound as additional
 * data, so a phone ciphertext copied into the ID column does not decrypt.
 */
export function encryptPii(field: PiiField, plaintext: string): string {
  const { id, key } = loadKey('pii.key')
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(field))
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  return [
    FORMAT,
    id,
    iv.toString('base64url'),
    tag.toString('base64url'),
    data.toString('base64url'),
  ].join('.')
}

/** Decrypts a value written by `encryptPii`. Throws if it was altered or the key is unknown. */
export function decryptPii(field: PiiField, ciphertext: string): string {
  const [format, id, iv, tag, data] = ciphertext.split('.')
  if (format !== FORMAT || !iv || !tag || data === undefined) {
    throw new Error('not a PII ciphertext')
  }
  const current = loadKey('pii.key')
  if (id !== current.id) throw new Error(`PII key ${id} is not available`)
  const decipher = createDecipheriv('aes-256-gcm', current.key, Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(field))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([
    decipher.update(Buffer.from(data, 'base64url')),
    decipher.final(),
  ]).toString('utf8')
}

/**
 * The blind index of a normalized value: HMAC-SHA256 under the index key,
 * with the field name mixed in so that equal strings in two fields do not
 * produce equal indexes. Hex, 64 characters.
 */
export function blindIndex(field: PiiField, normalized: string): string {
  const { key } = loadKey('pii-index.key')
  return createHmac('sha256', key).update(`${field}\u0000${normalized}`).digest('hex')
}

/**
 * What the screen shows of a phone number: the first three and last four
 * digits of a mainland mobile (138****5678); for other numbers the last four.
 */
export function maskPhone(phone: string): string {
  if (phone.length >= 11)
    return `${phone.slice(0, 3)}${'*'.repeat(phone.length - 7)}${phone.slice(-4)}`
  if (phone.length > 4) return `${'*'.repeat(phone.length - 4)}${phone.slice(-4)}`
  return '*'.repeat(phone.length)
}

/**
 * What the screen shows of an ID document number: the first and last four
 * characters of a long number (4401**********1234), fewer of a short one.
 */
export function maskIdNumber(value: string): string {
  if (value.length >= 12)
    return `${value.slice(0, 4)}${'*'.repeat(value.length - 8)}${value.slice(-4)}`
  if (value.length > 4)
    return `${value.slice(0, 1)}${'*'.repeat(value.length - 3)}${value.slice(-2)}`
  return '*'.repeat(value.length)
}

/** Forgets loaded keys (tests that switch storage roots). */
export function forgetPiiKeys(): void {
  cache.clear()
}
