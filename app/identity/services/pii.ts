import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
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
 * so keys can rotate (`node ace pii:rotate-key`): the rotation keeps the
 * previous key as keys/pii-<keyId>.key, new writes use the new key, rows
 * written under the old one stay readable while they are re-encrypted, and
 * the old file is deleted once no row uses it.
 *
 * Every process re-reads a key file within a second of it changing, so a
 * rotation run from the command line reaches the web and worker processes
 * without a restart.
 */

export type PiiField = 'phone' | 'id_doc_number'

interface LoadedKey {
  id: string
  key: Buffer
}

interface CachedKey extends LoadedKey {
  /** Inode, size and modification time of the file the key was read from. */
  signature: string
  checkedAt: number
}

const FORMAT = 'pii1'

/** How often a process looks whether a key file was replaced. */
export const KEY_CHECK_INTERVAL_MS = 1000

const cache = new Map<string, CachedKey>()
const retired = new Map<string, LoadedKey>()

/** Short fingerprint of a key, written into each ciphertext. */
function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8)
}

function fileSignature(path: string): string | null {
  try {
    const info = statSync(path)
    return `${info.ino}:${info.size}:${info.mtimeMs}`
  } catch {
    return null
  }
}

function readKeyFile(path: string, name: string): Buffer {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url')
  if (key.length !== 32) throw new Error(`${name} must hold 32 bytes (base64url)`)
  return key
}

/**
 * Reads a key file, creating it (mode 0600) with 32 random bytes on first
 * use. The key stays cached; at most once a second the file is looked at
 * again, and read anew when it was replaced.
 */
function loadKey(name: 'pii.key' | 'pii-index.key'): LoadedKey {
  const path = storagePath('keys', name)
  const cached = cache.get(path)
  const now = Date.now()
  if (cached && now - cached.checkedAt < KEY_CHECK_INTERVAL_MS) return cached
  if (cached && fileSignature(path) === cached.signature) {
    cached.checkedAt = now
    return cached
  }
  let key: Buffer
  if (existsSync(path)) key = readKeyFile(path, name)
  else {
    key = randomBytes(32)
    writePrivateFile(path, `${key.toString('base64url')}\n`)
  }
  const loaded: CachedKey = {
    id: keyId(key),
    key,
    signature: fileSignature(path) ?? '',
    checkedAt: now,
  }
  cache.set(path, loaded)
  return loaded
}

function retiredKeyPath(id: string): string {
  return storagePath('keys', `pii-${id}.key`)
}

/** A previous encryption key kept during a rotation, or null. */
function retiredKey(id: string): LoadedKey | null {
  if (!/^[0-9a-f]{8}$/.test(id)) return null
  const known = retired.get(id)
  if (known) return known
  const path = retiredKeyPath(id)
  if (!existsSync(path)) return null
  const key = readKeyFile(path, `pii-${id}.key`)
  if (keyId(key) !== id) throw new Error(`pii-${id}.key does not hold the key ${id}`)
  const loaded = { id, key }
  retired.set(id, loaded)
  return loaded
}

/** The key a ciphertext names: the current one, a retired one, or null. */
function decryptionKey(id: string): LoadedKey | null {
  const current = loadKey('pii.key')
  if (current.id === id) return current
  const previous = retiredKey(id)
  if (previous) return previous
  // Another process may have rotated the key less than a second ago.
  cache.delete(storagePath('keys', 'pii.key'))
  const fresh = loadKey('pii.key')
  return fresh.id === id ? fresh : null
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
  if (format !== FORMAT || !id || !iv || !tag || data === undefined) {
    throw new Error('not a PII ciphertext')
  }
  const loaded = decryptionKey(id)
  if (!loaded) throw new Error(`PII key ${id} is not available`)
  const decipher = createDecipheriv('aes-256-gcm', loaded.key, Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(field))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([
    decipher.update(Buffer.from(data, 'base64url')),
    decipher.final(),
  ]).toString('utf8')
}

/** The id of the key a ciphertext was made with, or null for something else. */
export function ciphertextKeyId(ciphertext: string): string | null {
  const [format, id] = ciphertext.split('.')
  return format === FORMAT && id ? id : null
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
  retired.clear()
}

/** The id of the current encryption key. */
export function currentPiiKeyId(): string {
  return loadKey('pii.key').id
}

/** The ids of previous encryption keys still kept: a rotation that has not finished. */
export function retiredPiiKeyIds(): string[] {
  const folder = storagePath('keys')
  if (!existsSync(folder)) return []
  return readdirSync(folder)
    .map((name) => /^pii-([0-9a-f]{8})\.key$/.exec(name)?.[1])
    .filter((id): id is string => id !== undefined)
    .sort()
}

/**
 * Starts a rotation of the encryption key: keeps the current key as
 * keys/pii-<keyId>.key, then replaces keys/pii.key with 32 new random bytes
 * (each file written atomically, the old key first, so that a crash in
 * between loses nothing).
 */
export function replacePiiKey(): { previous: string; current: string } {
  const previous = loadKey('pii.key')
  writePrivateFile(retiredKeyPath(previous.id), `${previous.key.toString('base64url')}\n`)
  const key = randomBytes(32)
  writePrivateFile(storagePath('keys', 'pii.key'), `${key.toString('base64url')}\n`)
  cache.delete(storagePath('keys', 'pii.key'))
  return { previous: previous.id, current: loadKey('pii.key').id }
}

/** Deletes a previous encryption key: call only once no ciphertext names it. */
export function removeRetiredPiiKey(id: string): void {
  if (!/^[0-9a-f]{8}$/.test(id)) throw new Error(`not a key id: ${id}`)
  rmSync(retiredKeyPath(id), { force: true })
  retired.delete(id)
}

function indexRotationMarker(): string {
  return storagePath('keys', 'pii-index.rotating')
}

/**
 * Replaces the blind-index key with 32 new random bytes. The old key is not
 * kept: every index is recomputed from the decrypted values. A marker file
 * says that the recomputation has not finished yet, so that an interrupted
 * rotation is resumed rather than started again.
 */
export function replaceBlindIndexKey(): void {
  writePrivateFile(indexRotationMarker(), `${new Date().toISOString()}\n`)
  writePrivateFile(
    storagePath('keys', 'pii-index.key'),
    `${randomBytes(32).toString('base64url')}\n`
  )
  cache.delete(storagePath('keys', 'pii-index.key'))
}

/** True while a blind-index rotation has not recomputed every index. */
export function blindIndexRotationPending(): boolean {
  return existsSync(indexRotationMarker())
}

/** Marks the blind-index rotation as done. */
export function finishBlindIndexRotation(): void {
  rmSync(indexRotationMarker(), { force: true })
}
