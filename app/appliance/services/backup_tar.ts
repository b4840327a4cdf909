import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/**
 * The minimal POSIX ustar that a backup's plaintext is made of: regular
 * files only, names under 100 bytes. Any tar program can unpack a decrypted
 * backup, which keeps a restore possible even without Quad.
 */

const BLOCK = 512

export interface TarSource {
  /** Path inside the archive, e.g. "storage/keys/app.key". */
  name: string
  size: number
  mode: number
  /** A file on disk, or the bytes themselves. */
  file?: string
  data?: Buffer
}

export interface TarEntry {
  name: string
  size: number
  mode: number
  sha256: string
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

function headerBlock(name: string, size: number, mode: number, mtime: number): Buffer {
  const bytes = Buffer.from(name, 'utf8')
  if (bytes.length >= 100) throw new Error(`Path too long for the backup archive: ${name}`)
  const block = Buffer.alloc(BLOCK)
  bytes.copy(block, 0)
  block.write(octal(mode & 0o7777, 8), 100, 'latin1')
  block.write(octal(0, 8), 108, 'latin1')
  block.write(octal(0, 8), 116, 'latin1')
  block.write(octal(size, 12), 124, 'latin1')
  block.write(octal(mtime, 12), 136, 'latin1')
  block.write('        ', 148, 'latin1')
  block.write('0', 156, 'latin1')
  block.write('ustar\0', 257, 'latin1')
  block.write('00', 263, 'latin1')
  let sum = 0
  for (const byte of block) sum += byte
  block.write(octal(sum, 7) + ' ', 148, 'latin1')
  return block
}

function padding(size: number): Buffer {
  const rest = size % BLOCK
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest)
}

/**
 * Yields the archive. Files are read as they are packed and hashed on the
 * way, so a large database never sits in memory; `onEntry` receives each
 * file's SHA-256. A file that changes size while it is read fails the run
 * rather than produce an archive that does not match its manifest.
 */
export async function* writeTar(
  sources: AsyncIterable<TarSource> | Iterable<TarSource>,
  onEntry: (entry: TarEntry) => void = () => {}
): AsyncGenerator<Buffer> {
  const mtime = Math.floor(Date.now() / 1000)
  for await (const source of sources) {
    yield headerBlock(source.name, source.size, source.mode, mtime)
    const hash = createHash('sha256')
    let read = 0
    if (source.data) {
      hash.update(source.data)
      read = source.data.length
      yield source.data
    } else if (source.file && source.size > 0) {
      for await (const piece of createReadStream(source.file, { end: source.size - 1 })) {
        hash.update(piece as Buffer)
        read += (piece as Buffer).length
        yield piece as Buffer
      }
    }
    if (read !== source.size)
      throw new Error(`${source.name} changed while it was backed up; run the backup again`)
    yield padding(source.size)
    onEntry({
      name: source.name,
      size: source.size,
      mode: source.mode,
      sha256: hash.digest('hex'),
    })
  }
  yield Buffer.alloc(BLOCK * 2)
}

/** Receives one archive member's bytes; `end` runs after the last piece. */
export interface EntrySink {
  write(piece: Buffer): Promise<void> | void
  end(): Promise<void> | void
}

function readOctal(block: Buffer, offset: number, width: number): number {
  const text = block
    .subarray(offset, offset + width)
    .toString('latin1')
    .replace(/[\0 ]+$/g, '')
    .trim()
  return text === '' ? 0 : Number.parseInt(text, 8)
}

/**
 * Reads an archive, handing each member to the sink `open` returns (null
 * skips it) and reporting its SHA-256. Throws on anything that is not the
 * archive writeTar makes.
 */
export async function readTar(
  source: AsyncIterable<Buffer>,
  open: (entry: { name: string; size: number; mode: number }) => EntrySink | null,
  onEntry: (entry: TarEntry) => void = () => {}
): Promise<void> {
  let buffer: Buffer = Buffer.alloc(0)
  let current: {
    name: string
    size: number
    mode: number
    left: number
    pad: number
    sink: EntrySink | null
    hash: ReturnType<typeof createHash>
  } | null = null
  let ended = false

  for await (const piece of source) {
    buffer = buffer.length === 0 ? piece : Buffer.concat([buffer, piece])
    while (true) {
      if (current) {
        if (current.left > 0) {
          if (buffer.length === 0) break
          const part = buffer.subarray(0, Math.min(current.left, buffer.length))
          current.hash.update(part)
          if (current.sink) await current.sink.write(Buffer.from(part))
          current.left -= part.length
          buffer = buffer.subarray(part.length)
          continue
        }
        if (buffer.length < current.pad) break
        buffer = buffer.subarray(current.pad)
        if (current.sink) await current.sink.end()
        onEntry({
          name: current.name,
          size: current.size,
          mode: current.mode,
          sha256: current.hash.digest('hex'),
        })
        current = null
        continue
      }
      if (buffer.length < BLOCK) break
      const block = buffer.subarray(0, BLOCK)
      buffer = buffer.subarray(BLOCK)
      if (block.every((byte) => byte === 0)) {
        ended = true
        continue
      }
      if (ended) throw new Error('unexpected data after the end of the archive')
      const name = block.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '')
      const type = String.fromCharCode(block[156])
      if (
        block.subarray(257, 262).toString('latin1') !== 'ustar' ||
        (type !== '0' && type !== '\0')
      )
        throw new Error(`unexpected archive member ${JSON.stringify(name)}`)
      if (name === '' || name.startsWith('/') || name.split('/').includes('..'))
        throw new Error(`unsafe archive path ${JSON.stringify(name)}`)
      const size = readOctal(block, 124, 12)
      const mode = readOctal(block, 100, 8)
      current = {
        name,
        size,
        mode,
        left: size,
        pad: padding(size).length,
        sink: open({ name, size, mode }),
        hash: createHash('sha256'),
      }
    }
  }
  if (current || !ended) throw new Error('the archive ends in the middle of a file')
}
