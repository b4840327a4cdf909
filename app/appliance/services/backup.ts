import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  type WriteStream,
} from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import {
  BackupError,
  HEADER_READ_BYTES,
  newHeader,
  openSealed,
  readPublicInfo,
  SealStream,
  type BackupSecret,
  type PublicInfo,
} from '#appliance/services/backup_format'
import { readTar, writeTar, type TarEntry, type TarSource } from '#appliance/services/backup_tar'
import {
  currentDialect,
  otherDatabaseUsers,
  restorePostgres,
  shippedMigrations,
  snapshotDatabase,
  swapSqliteFile,
  tableCounts,
  unknownMigrations,
  type Dialect,
} from '#appliance/services/backup_database'
import { ensurePrivateDir, FILE_MODE, storagePath } from '#appliance/services/storage_root'
import { currentSchool } from '#appliance/services/school_settings'

/**
 * Backups of one Quad: the database snapshot and the storage files a
 * restore needs, in one encrypted .qbk file with a manifest. The commands,
 * the nightly job and the console all use these functions.
 */

/** Storage folders a restore needs. db/ travels as the snapshot; backups/, logs/, tmp/ stay. */
export const BACKED_UP_FOLDERS = ['keys', 'pki', 'uploads'] as const

export const BACKUP_EXTENSION = '.qbk'

/** A passphrase shorter than this is refused when a backup is made. */
export const MIN_PASSPHRASE_LENGTH = 12

export interface BackupManifest {
  format: 'quad-backup'
  formatVersion: 1
  quadVersion: string
  createdAt: string
  school: { code: string; name: string } | null
  database: { dialect: Dialect; member: string; serverVersion: string | null }
  schema: { migrations: string[]; latest: string | null }
  tables: Record<string, number>
  files: TarEntry[]
}

export type BackupProgress =
  | { stage: 'database'; done: number; total: number }
  | { stage: 'pack'; bytes: number; total: number }
  | { stage: 'unpack'; bytes: number; total: number }
  | { stage: 'restore'; step: string }

type OnProgress = (progress: BackupProgress) => void

export function quadVersion(): string {
  return JSON.parse(readFileSync(app.makePath('package.json'), 'utf8')).version
}

/** The folder that backup:create writes to by default and backup:list reads. */
export function backupsFolder(): string {
  return storagePath('backups')
}

function workFolder(kind: string): string {
  const path = storagePath('tmp', `${kind}-${Date.now()}-${randomBytes(4).toString('hex')}`)
  ensurePrivateDir(path)
  return path
}

/** Reads a key file: 32 raw bytes, or 32 bytes written as hex or base64. */
export function readKeyFile(path: string): BackupSecret {
  const bytes = readFileSync(path)
  if (bytes.length === 32) return { kind: 'key', key: bytes }
  const text = bytes.toString('utf8').trim()
  const decoded = /^[0-9a-f]{64}$/i.test(text)
    ? Buffer.from(text, 'hex')
    : Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64')
  if (decoded.length !== 32)
    throw new BackupError(
      'bad_key_file',
      `The key file ${path} must hold 32 bytes (raw, hex or base64): create one with "head -c 32 /dev/urandom > ${basename(path)}".`
    )
  return { kind: 'key', key: decoded }
}

/** Reads a passphrase file; one trailing line break is not part of the passphrase. */
export function readPassphraseFile(path: string): BackupSecret {
  const passphrase = readFileSync(path, 'utf8').replace(/\r?\n$/, '')
  if (passphrase.length === 0)
    throw new BackupError('bad_passphrase', `The passphrase file ${path} is empty.`)
  return { kind: 'passphrase', passphrase }
}

/**
 * The secret from the command's flags, else the environment: the flags
 * first, then QUAD_BACKUP_PASSPHRASE, QUAD_BACKUP_PASSPHRASE_FILE and
 * QUAD_BACKUP_KEY_FILE. Null when none is given.
 */
export function resolveSecret(
  flags: { passphraseFile?: string; keyFile?: string } = {},
  env: NodeJS.ProcessEnv = process.env
): BackupSecret | null {
  if (flags.passphraseFile && flags.keyFile)
    throw new BackupError('two_secrets', 'Give either --passphrase-file or --key-file, not both.')
  if (flags.passphraseFile) return readPassphraseFile(flags.passphraseFile)
  if (flags.keyFile) return readKeyFile(flags.keyFile)
  if (env.QUAD_BACKUP_PASSPHRASE)
    return { kind: 'passphrase', passphrase: env.QUAD_BACKUP_PASSPHRASE }
  if (env.QUAD_BACKUP_PASSPHRASE_FILE) return readPassphraseFile(env.QUAD_BACKUP_PASSPHRASE_FILE)
  if (env.QUAD_BACKUP_KEY_FILE) return readKeyFile(env.QUAD_BACKUP_KEY_FILE)
  return null
}

/** What scheduled backups would use, for the console: the kind of secret, or null. */
export function scheduledSecretKind(env: NodeJS.ProcessEnv = process.env) {
  if (env.QUAD_BACKUP_KEY_FILE) return 'key_file'
  if (env.QUAD_BACKUP_PASSPHRASE_FILE) return 'passphrase_file'
  return null
}

function* storageFiles(): Generator<{ name: string; file: string; size: number; mode: number }> {
  const root = storagePath()
  function* walk(
    folder: string
  ): Generator<{ name: string; file: string; size: number; mode: number }> {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name)
    )) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) yield* walk(path)
      else if (entry.isFile()) {
        const stats = lstatSync(path)
        yield {
          name: `storage/${relative(root, path)}`,
          file: path,
          size: stats.size,
          mode: stats.mode & 0o777,
        }
      }
    }
  }
  for (const folder of BACKED_UP_FOLDERS) {
    const path = join(root, folder)
    if (existsSync(path)) yield* walk(path)
  }
}

function timestampForName(time: DateTime) {
  return time.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'")
}

export interface CreatedBackup {
  file: string
  size: number
  manifest: BackupManifest
  seconds: number
}

/**
 * Makes a backup: snapshots the database into a private work folder, then
 * streams the archive (database, storage files, manifest last) through the
 * cipher into `<output>.partial`, renamed when complete. Memory use does not
 * grow with the database.
 */
export async function createBackup(options: {
  secret: BackupSecret
  output?: string
  onProgress?: OnProgress
}): Promise<CreatedBackup> {
  const started = Date.now()
  const { secret, onProgress = () => {} } = options
  if (secret.kind === 'passphrase' && secret.passphrase.length < MIN_PASSPHRASE_LENGTH)
    throw new BackupError(
      'weak_passphrase',
      `The backup passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters.`
    )
  const school = await currentSchool()
  const createdAt = DateTime.utc()
  const output =
    options.output ??
    join(
      backupsFolder(),
      `quad-${school?.code ?? 'unset'}-${timestampForName(createdAt)}${BACKUP_EXTENSION}`
    )
  if (existsSync(output)) throw new BackupError('exists', `${output} already exists.`)
  mkdirSync(dirname(output), { recursive: true, mode: 0o700 })

  const work = workFolder('backup')
  const partial = `${output}.partial`
  try {
    const snapshot = await snapshotDatabase(work, (done, total) =>
      onProgress({ stage: 'database', done, total })
    )
    const sources: TarSource[] = [
      {
        name: snapshot.member,
        file: snapshot.file,
        size: statSync(snapshot.file).size,
        mode: FILE_MODE,
      },
      ...storageFiles(),
    ]
    const total = sources.reduce((sum, source) => sum + source.size, 0)
    const entries: TarEntry[] = []
    const manifest: BackupManifest = {
      format: 'quad-backup',
      formatVersion: 1,
      quadVersion: quadVersion(),
      createdAt: createdAt.toISO()!,
      school: school ? { code: school.code, name: school.name } : null,
      database: {
        dialect: snapshot.dialect,
        member: snapshot.member,
        serverVersion: snapshot.serverVersion,
      },
      schema: { migrations: snapshot.migrations, latest: snapshot.migrations.at(-1) ?? null },
      tables: snapshot.tables,
      files: entries,
    }
    // The manifest goes last: by then every file's checksum is known.
    async function* members(): AsyncGenerator<TarSource> {
      yield* sources
      const data = Buffer.from(JSON.stringify(manifest, null, 2), 'utf8')
      yield { name: 'manifest.json', data, size: data.length, mode: FILE_MODE }
    }
    const info: PublicInfo = {
      createdAt: manifest.createdAt,
      quadVersion: manifest.quadVersion,
      school: school?.code ?? null,
      dialect: snapshot.dialect,
    }
    let packed = 0
    async function* counted() {
      for await (const piece of writeTar(members(), (entry) => {
        if (entry.name !== 'manifest.json') entries.push(entry)
      })) {
        packed += piece.length
        onProgress({ stage: 'pack', bytes: packed, total })
        yield piece
      }
    }
    await pipeline(
      Readable.from(counted()),
      new SealStream(await newHeader(secret, info)),
      createWriteStream(partial, { mode: FILE_MODE, flags: 'wx' })
    )
    chmodSync(partial, FILE_MODE)
    renameSync(partial, output)
    return {
      file: output,
      size: statSync(output).size,
      manifest,
      seconds: (Date.now() - started) / 1000,
    }
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** A problem with the backup's content (after it decrypted), in words. */
function manifestProblems(manifest: BackupManifest, seen: Map<string, TarEntry>): string[] {
  const problems: string[] = []
  if (manifest.format !== 'quad-backup') return ['the manifest is not a Quad backup manifest']
  for (const file of manifest.files) {
    const found = seen.get(file.name)
    if (!found) problems.push(`${file.name} is missing`)
    else if (found.size !== file.size || found.sha256 !== file.sha256)
      problems.push(`${file.name} does not match its checksum`)
  }
  const listed = new Set(manifest.files.map((file) => file.name))
  for (const name of seen.keys())
    if (!listed.has(name)) problems.push(`${name} is not in the manifest`)
  if (!listed.has(manifest.database?.member)) problems.push('the database snapshot is missing')
  return problems
}

/**
 * Decrypts and reads a whole backup, optionally writing its members under
 * `extractTo`. Checks the container, every checksum and the manifest, and
 * refuses a backup whose schema is newer than this Quad. Throws BackupError.
 */
export async function readBackup(
  file: string,
  secret: BackupSecret,
  options: { extractTo?: string; onProgress?: OnProgress } = {}
): Promise<BackupManifest> {
  if (!existsSync(file)) throw new BackupError('missing', `${file} does not exist.`)
  const total = statSync(file).size
  let read = 0
  async function* source(): AsyncGenerator<Buffer> {
    for await (const piece of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
      read += (piece as Buffer).length
      options.onProgress?.({ stage: 'unpack', bytes: read, total })
      yield piece as Buffer
    }
  }
  const seen = new Map<string, TarEntry>()
  let manifestBytes: Buffer[] = []
  try {
    await readTar(
      openSealed(source(), secret),
      (entry) => {
        if (seen.has(entry.name)) throw new Error(`${entry.name} appears twice`)
        if (entry.name === 'manifest.json') {
          manifestBytes = []
          return { write: (piece) => void manifestBytes.push(piece), end: () => {} }
        }
        if (!options.extractTo) return null
        const target = join(options.extractTo, entry.name)
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
        return fileSink(createWriteStream(target, { mode: FILE_MODE }))
      },
      (entry) => {
        if (entry.name !== 'manifest.json') seen.set(entry.name, entry)
      }
    )
  } catch (error) {
    if (error instanceof BackupError) throw error
    throw new BackupError(
      'corrupted',
      `The backup's content is damaged: ${(error as Error).message}.`
    )
  }
  let manifest: BackupManifest
  try {
    manifest = JSON.parse(Buffer.concat(manifestBytes).toString('utf8'))
  } catch {
    throw new BackupError('corrupted', 'The backup has no readable manifest.')
  }
  const problems = manifestProblems(manifest, seen)
  if (problems.length > 0)
    throw new BackupError('corrupted', `The backup's content is damaged: ${problems.join('; ')}.`)
  if (manifest.formatVersion > 1)
    throw new BackupError(
      'newer_format',
      `This backup was made by a newer Quad (${manifest.quadVersion}); upgrade Quad to restore it.`
    )
  const newer = unknownMigrations(manifest.schema.migrations)
  if (newer.length > 0)
    throw new BackupError(
      'newer_schema',
      `This backup has a newer database schema than this Quad ${quadVersion()} (made by Quad ${manifest.quadVersion}; unknown migrations: ${newer.map((name) => basename(name)).join(', ')}). Upgrade Quad first, then restore.`
    )
  return manifest
}

function fileSink(stream: WriteStream) {
  return {
    write: (piece: Buffer) =>
      new Promise<void>((resolve, reject) => {
        stream.write(piece, (error) => (error ? reject(error) : resolve()))
      }),
    end: () =>
      new Promise<void>((resolve, reject) => {
        stream.once('error', reject)
        stream.end(() => resolve())
      }),
  }
}

export interface RestoredBackup {
  manifest: BackupManifest
  /** Tables whose row count differs from the manifest (none after a good restore). */
  mismatches: { table: string; expected: number; found: number }[]
  pendingMigrations: number
  seconds: number
}

/**
 * Restores a backup onto this install: checks all of it first (nothing is
 * touched when anything is wrong), refuses while other processes use the
 * database, then replaces the database and the keys, pki and uploads
 * folders, and compares every table's row count with the manifest.
 */
export async function restoreBackup(options: {
  file: string
  secret: BackupSecret
  onProgress?: OnProgress
}): Promise<RestoredBackup> {
  const started = Date.now()
  const { onProgress = () => {} } = options
  const work = workFolder('restore')
  try {
    const manifest = await readBackup(options.file, options.secret, {
      extractTo: work,
      onProgress,
    })
    const dialect = currentDialect()
    if (manifest.database.dialect !== dialect)
      throw new BackupError(
        'other_dialect',
        `This backup holds a ${manifest.database.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'} database and this Quad uses ${dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'}: restore it onto a Quad with the same database, then move with node ace database:transfer.`
      )
    const users = await otherDatabaseUsers()
    if (users.length > 0)
      throw new BackupError(
        'database_in_use',
        `Other processes use the database (${users.join(', ')}): stop Quad (web, worker, gateway) before restoring.`
      )

    onProgress({ stage: 'restore', step: 'database' })
    const snapshot = join(work, manifest.database.member)
    if (dialect === 'postgres') await restorePostgres(snapshot, Object.keys(manifest.tables))
    else await swapSqliteFile(snapshot)

    onProgress({ stage: 'restore', step: 'storage' })
    const old = join(work, 'previous')
    ensurePrivateDir(old)
    for (const folder of BACKED_UP_FOLDERS) {
      const restored = join(work, 'storage', folder)
      if (!existsSync(restored)) ensurePrivateDir(restored)
      const current = storagePath(folder)
      if (existsSync(current)) renameSync(current, join(old, folder))
      renameSync(restored, current)
      ensurePrivateDir(current)
    }

    onProgress({ stage: 'restore', step: 'verify' })
    const { counts, migrations } = await tableCounts()
    const mismatches = Object.entries(manifest.tables)
      .filter(([table, expected]) => counts[table] !== expected)
      .map(([table, expected]) => ({ table, expected, found: counts[table] ?? 0 }))
    const applied = new Set(migrations)
    return {
      manifest,
      mismatches,
      pendingMigrations: shippedMigrations().filter((name) => !applied.has(name)).length,
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

export interface BackupFile {
  file: string
  name: string
  size: number
  createdAt: DateTime
  school: string | null
  quadVersion: string | null
  dialect: string | null
}

function readHead(path: string): Buffer {
  const descriptor = openSync(path, 'r')
  try {
    const buffer = Buffer.alloc(HEADER_READ_BYTES)
    const bytes = readSync(descriptor, buffer, 0, buffer.length, 0)
    return buffer.subarray(0, bytes)
  } finally {
    closeSync(descriptor)
  }
}

/**
 * The backups in a folder, newest first, read from their public headers
 * (no key needed). Files that are not Quad backups are left out.
 */
export function listBackups(folder = backupsFolder()): BackupFile[] {
  if (!existsSync(folder)) return []
  const found: BackupFile[] = []
  for (const name of readdirSync(folder)) {
    if (!name.endsWith(BACKUP_EXTENSION)) continue
    const file = join(folder, name)
    const stats = statSync(file)
    if (!stats.isFile()) continue
    const info = readPublicInfo(readHead(file))
    if (!info) continue
    const createdAt = DateTime.fromISO(info.createdAt, { zone: 'utc' })
    found.push({
      file,
      name,
      size: stats.size,
      createdAt: createdAt.isValid ? createdAt : DateTime.fromJSDate(stats.mtime, { zone: 'utc' }),
      school: info.school,
      quadVersion: info.quadVersion,
      dialect: info.dialect,
    })
  }
  return found.sort((a, b) => b.createdAt.toMillis() - a.createdAt.toMillis())
}

export interface RetentionPolicy {
  daily: number
  weekly: number
  monthly: number
}

export const DEFAULT_RETENTION: RetentionPolicy = { daily: 7, weekly: 4, monthly: 6 }

/**
 * Which backups a retention policy keeps: the newest backup of each of the
 * last N days, ISO weeks and months that have one (days counted in the
 * school's time zone), and always the newest backup of all.
 */
export function planPrune<T extends { createdAt: DateTime }>(
  backups: T[],
  policy: RetentionPolicy,
  zone = 'UTC'
): { keep: T[]; remove: T[] } {
  const newestFirst = [...backups].sort((a, b) => b.createdAt.toMillis() - a.createdAt.toMillis())
  const kept = new Set<T>(newestFirst.slice(0, 1))
  const rules: [number, (time: DateTime) => string][] = [
    [policy.daily, (time) => time.toFormat('yyyy-MM-dd')],
    [policy.weekly, (time) => `${time.weekYear}-W${time.weekNumber}`],
    [policy.monthly, (time) => time.toFormat('yyyy-MM')],
  ]
  for (const [count, period] of rules) {
    const periods = new Set<string>()
    for (const backup of newestFirst) {
      if (periods.size >= count) break
      const key = period(backup.createdAt.setZone(zone))
      if (periods.has(key)) continue
      periods.add(key)
      kept.add(backup)
    }
  }
  return {
    keep: newestFirst.filter((backup) => kept.has(backup)),
    remove: newestFirst.filter((backup) => !kept.has(backup)),
  }
}

/** Deletes the backups the policy does not keep; returns what was kept and removed. */
export function pruneBackups(policy: RetentionPolicy, zone = 'UTC', folder = backupsFolder()) {
  const plan = planPrune(listBackups(folder), policy, zone)
  for (const backup of plan.remove) rmSync(backup.file, { force: true })
  return plan
}

/** Age beyond which the console warns that the last backup is old. */
export const STALE_AFTER_HOURS = 48
