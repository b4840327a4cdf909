import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'

/**
 * The .qbk container: a plaintext header followed by a tar stream cut into
 * chunks, each sealed with AES-256-GCM. docs/backups.md describes the byte
 * layout. Nothing here knows about databases or Quad's storage root.
 */

export const MAGIC = Buffer.from('QUADBKP\0', 'latin1')
export const FORMAT_VERSION = 1
export const CHUNK_SIZE = 1024 * 1024
const TAG_BYTES = 16
const SALT_BYTES = 32
const DIGEST_BYTES = 32
/** Larger chunk lengths than this in a file are damage, not data. */
const MAX_CHUNK = 64 * 1024 * 1024

/** scrypt cost: 2^17 × 8 × 128 bytes = 128 MiB and about half a second per backup. */
export const SCRYPT = { log2N: 17, r: 8, p: 1 }

/** How the backup's key is obtained: a passphrase through scrypt, or a 32-byte key file. */
export type BackupSecret = { kind: 'passphrase'; passphrase: string } | { kind: 'key'; key: Buffer }

/** What anyone may read without the key: enough for backup:list and the console. */
export interface PublicInfo {
  createdAt: string
  quadVersion: string
  school: string | null
  dialect: string
}

export type BackupProblem =
  | 'not_a_backup'
  | 'newer_format'
  | 'header_corrupted'
  | 'wrong_passphrase'
  | 'wrong_key'
  | 'wrong_secret_kind'
  | 'corrupted'
  | 'truncated'
  | 'trailing_data'

/** A refusal with a reason an operator can act on; `problem` is for scripts and tests. */
export class BackupError extends Error {
  constructor(
    readonly problem: BackupProblem | string,
    message: string
  ) {
    super(message)
  }
}

const KDF_SCRYPT = 1
const KDF_KEY_FILE = 2

interface Header {
  kdf: number
  scrypt: { log2N: number; r: number; p: number }
  chunkSize: number
  salt: Buffer
  info: PublicInfo
  /** Every header byte before the key check: bound into each chunk and the key check. */
  signedPart: Buffer
  keyCheck: Buffer
  digest: Buffer
  length: number
}

function masterKey(secret: BackupSecret, salt: Buffer, params = SCRYPT): Promise<Buffer> {
  if (secret.kind === 'key') return Promise.resolve(secret.key)
  return new Promise((resolve, reject) =>
    scrypt(
      secret.passphrase.normalize('NFC'),
      salt,
      32,
      { N: 2 ** params.log2N, r: params.r, p: params.p, maxmem: 512 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key))
    )
  )
}

/** Two independent keys from one secret: one encrypts, one proves the secret is right. */
function subKeys(master: Buffer, salt: Buffer) {
  const derive = (label: string) =>
    Buffer.from(hkdfSync('sha256', master, salt, `quad-backup v1 ${label}`, 32))
  return { data: derive('data'), check: derive('check') }
}

function nonce(index: number, final: boolean): Buffer {
  const value = Buffer.alloc(12)
  value.writeBigUInt64BE(BigInt(index), 0)
  value[8] = final ? 1 : 0
  return value
}

function chunkAad(digest: Buffer, length: number): Buffer {
  const aad = Buffer.alloc(DIGEST_BYTES + 4)
  digest.copy(aad, 0)
  aad.writeUInt32BE(length, DIGEST_BYTES)
  return aad
}

/**
 * Builds the header for a new backup and the key its chunks are sealed
 * with. A fresh random salt per file makes the data key unique per file,
 * also when many backups share one key file.
 */
export async function newHeader(secret: BackupSecret, info: PublicInfo) {
  const salt = randomBytes(SALT_BYTES)
  const infoBytes = Buffer.from(JSON.stringify(info), 'utf8')
  const fixed = Buffer.alloc(MAGIC.length + 9 + SALT_BYTES + 2)
  let offset = MAGIC.copy(fixed, 0)
  fixed[offset++] = FORMAT_VERSION
  fixed[offset++] = secret.kind === 'passphrase' ? KDF_SCRYPT : KDF_KEY_FILE
  fixed[offset++] = SCRYPT.log2N
  fixed[offset++] = SCRYPT.r
  fixed[offset++] = SCRYPT.p
  offset = fixed.writeUInt32BE(CHUNK_SIZE, offset)
  offset += salt.copy(fixed, offset)
  fixed.writeUInt16BE(infoBytes.length, offset)
  const signedPart = Buffer.concat([fixed, infoBytes])
  const keys = subKeys(await masterKey(secret, salt), salt)
  const keyCheck = createHmac('sha256', keys.check).update(signedPart).digest()
  const withCheck = Buffer.concat([signedPart, keyCheck])
  const digest = createHash('sha256').update(withCheck).digest()
  return { bytes: Buffer.concat([withCheck, digest]), dataKey: keys.data, digest }
}

/**
 * Seals a byte stream into chunk records. The last record carries the
 * "final" flag in its nonce, so a file cut at a record boundary still fails.
 */
export class SealStream extends Transform {
  #pending: Buffer[] = []
  #pendingBytes = 0
  #index = 0

  constructor(
    private header: { bytes: Buffer; dataKey: Buffer; digest: Buffer },
    private chunkSize = CHUNK_SIZE
  ) {
    super()
    this.push(header.bytes)
  }

  #seal(plain: Buffer, final: boolean) {
    const cipher = createCipheriv('aes-256-gcm', this.header.dataKey, nonce(this.#index++, final))
    cipher.setAAD(chunkAad(this.header.digest, plain.length))
    const length = Buffer.alloc(4)
    length.writeUInt32BE(plain.length)
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()])
    this.push(Buffer.concat([length, sealed, cipher.getAuthTag()]))
  }

  _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    this.#pending.push(chunk)
    this.#pendingBytes += chunk.length
    while (this.#pendingBytes >= this.chunkSize) {
      const all = Buffer.concat(this.#pending)
      // A chunk is sealed only once more data follows, so that the last one is known.
      if (all.length === this.chunkSize) {
        this.#pending = [all]
        break
      }
      this.#seal(all.subarray(0, this.chunkSize), false)
      this.#pending = [all.subarray(this.chunkSize)]
      this.#pendingBytes = all.length - this.chunkSize
    }
    done()
  }

  _flush(done: TransformCallback) {
    this.#seal(Buffer.concat(this.#pending), true)
    done()
  }
}

function parseHeader(buffer: Buffer): Header | 'need_more' {
  const fixedLength = MAGIC.length + 9 + SALT_BYTES + 2
  if (buffer.length < MAGIC.length) return 'need_more'
  if (!buffer.subarray(0, MAGIC.length).equals(MAGIC))
    throw new BackupError('not_a_backup', 'This is not a Quad backup file.')
  if (buffer.length < fixedLength) return 'need_more'
  let offset = MAGIC.length
  const version = buffer[offset++]
  if (version > FORMAT_VERSION)
    throw new BackupError(
      'newer_format',
      `This backup was made by a newer Quad (container format ${version}); upgrade Quad to restore it.`
    )
  const kdf = buffer[offset++]
  const scryptParams = { log2N: buffer[offset++], r: buffer[offset++], p: buffer[offset++] }
  const chunkSize = buffer.readUInt32BE(offset)
  offset += 4
  const salt = Buffer.from(buffer.subarray(offset, offset + SALT_BYTES))
  offset += SALT_BYTES
  const infoLength = buffer.readUInt16BE(offset)
  const total = fixedLength + infoLength + 2 * DIGEST_BYTES
  if (buffer.length < total) return 'need_more'
  const signedPart = Buffer.from(buffer.subarray(0, fixedLength + infoLength))
  const keyCheck = Buffer.from(buffer.subarray(signedPart.length, signedPart.length + DIGEST_BYTES))
  const digest = Buffer.from(buffer.subarray(signedPart.length + DIGEST_BYTES, total))
  const expected = createHash('sha256')
    .update(buffer.subarray(0, signedPart.length + DIGEST_BYTES))
    .digest()
  const sane =
    (kdf === KDF_SCRYPT || kdf === KDF_KEY_FILE) &&
    scryptParams.log2N >= 10 &&
    scryptParams.log2N <= 22 &&
    chunkSize > 0 &&
    chunkSize <= MAX_CHUNK
  if (!expected.equals(digest) || !sane)
    throw new BackupError('header_corrupted', 'The backup is corrupted: its header is damaged.')
  let info: PublicInfo
  try {
    info = JSON.parse(buffer.subarray(fixedLength, fixedLength + infoLength).toString('utf8'))
  } catch {
    throw new BackupError('header_corrupted', 'The backup is corrupted: its header is damaged.')
  }
  return {
    kdf,
    scrypt: scryptParams,
    chunkSize,
    salt,
    info,
    signedPart,
    keyCheck,
    digest,
    length: total,
  }
}

/**
 * Reads the public part of a backup's header (no key needed). Returns null
 * for a file that is not a readable Quad backup.
 */
export function readPublicInfo(head: Buffer): PublicInfo | null {
  try {
    const header = parseHeader(head)
    return header === 'need_more' ? null : header.info
  } catch {
    return null
  }
}

/** Bytes enough for any header (the public info is a few hundred bytes). */
export const HEADER_READ_BYTES = 64 * 1024

/**
 * Opens a sealed stream: checks the header and the secret, then yields the
 * plaintext chunk by chunk. Throws a BackupError that names what is wrong:
 * the passphrase, a damaged chunk (with its byte offset), a cut-off file, or
 * bytes after the end.
 */
export async function* openSealed(
  source: AsyncIterable<Buffer>,
  secret: BackupSecret,
  onHeader?: (info: PublicInfo) => void
): AsyncGenerator<Buffer> {
  let buffer: Buffer = Buffer.alloc(0)
  let consumed = 0
  let header: Header | null = null
  let dataKey: Buffer | null = null
  let index = 0
  let finished = false

  for await (const piece of source) {
    buffer = buffer.length === 0 ? piece : Buffer.concat([buffer, piece])
    if (!header) {
      const parsed = parseHeader(buffer)
      if (parsed === 'need_more') continue
      header = parsed
      const wanted = header.kdf === KDF_SCRYPT ? 'passphrase' : 'key'
      if (secret.kind !== wanted)
        throw new BackupError(
          'wrong_secret_kind',
          wanted === 'key'
            ? 'This backup was encrypted with a key file: give --key-file.'
            : 'This backup was encrypted with a passphrase: give --passphrase-file or QUAD_BACKUP_PASSPHRASE.'
        )
      const keys = subKeys(await masterKey(secret, header.salt, header.scrypt), header.salt)
      const check = createHmac('sha256', keys.check).update(header.signedPart).digest()
      if (!timingSafeEqual(check, header.keyCheck))
        throw new BackupError(
          secret.kind === 'passphrase' ? 'wrong_passphrase' : 'wrong_key',
          secret.kind === 'passphrase'
            ? 'Wrong passphrase: this backup was encrypted with another one.'
            : 'Wrong key file: this backup was encrypted with another key.'
        )
      dataKey = keys.data
      onHeader?.(header.info)
      buffer = buffer.subarray(header.length)
      consumed = header.length
    }
    while (buffer.length >= 4) {
      if (finished)
        throw new BackupError(
          'trailing_data',
          `The backup is corrupted: unexpected bytes after its end (at byte ${consumed}).`
        )
      const length = buffer.readUInt32BE(0)
      if (length > header.chunkSize)
        throw new BackupError(
          'corrupted',
          `The backup is corrupted at byte ${consumed} (chunk ${index + 1}).`
        )
      const recordLength = 4 + length + TAG_BYTES
      if (buffer.length < recordLength) break
      const sealed = buffer.subarray(4, 4 + length)
      const tag = buffer.subarray(4 + length, recordLength)
      const plain = decryptChunk(dataKey!, header.digest, index, sealed, tag, consumed)
      index += 1
      finished = plain.final
      buffer = buffer.subarray(recordLength)
      consumed += recordLength
      if (plain.data.length > 0) yield plain.data
    }
  }
  if (!header)
    throw new BackupError(
      buffer.length >= MAGIC.length ? 'truncated' : 'not_a_backup',
      buffer.length >= MAGIC.length
        ? 'The backup is truncated: its header is incomplete.'
        : 'This is not a Quad backup file.'
    )
  if (buffer.length > 0 && finished)
    throw new BackupError(
      'trailing_data',
      `The backup is corrupted: unexpected bytes after its end (at byte ${consumed}).`
    )
  if (!finished)
    throw new BackupError(
      'truncated',
      `The backup is truncated: it ends at byte ${consumed + buffer.length} before its last chunk.`
    )
}

/** Tries the chunk as a middle chunk, then as the last one (the flag lives in the nonce). */
function decryptChunk(
  key: Buffer,
  digest: Buffer,
  index: number,
  sealed: Buffer,
  tag: Buffer,
  offset: number
): { data: Buffer; final: boolean } {
  for (const final of [false, true]) {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce(index, final))
    decipher.setAAD(chunkAad(digest, sealed.length))
    decipher.setAuthTag(tag)
    try {
      const data = Buffer.concat([decipher.update(sealed), decipher.final()])
      return { data, final }
    } catch {
      // Not this flag: try the other, then report the damage.
    }
  }
  throw new BackupError(
    'corrupted',
    `The backup is corrupted at byte ${offset} (chunk ${index + 1}): it was altered or damaged.`
  )
}
