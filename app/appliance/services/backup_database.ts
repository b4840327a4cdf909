import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readlinkSync, renameSync, rmSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { BackupError } from '#appliance/services/backup_format'

/**
 * The database half of a backup: a consistent snapshot of SQLite (online
 * backup API) or PostgreSQL (pg_dump inside an exported snapshot), with
 * its row counts and applied migrations taken from that same snapshot.
 */

export type Dialect = 'sqlite' | 'postgres'

/** The part of better-sqlite3 used here (the package ships no types). */
interface SqliteStatement {
  get(...params: unknown[]): any
  all(...params: unknown[]): any[]
}
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement
  pragma(sql: string, options?: { simple?: boolean }): any
  exec(sql: string): void
  backup(
    destination: string,
    options?: { progress?: (info: { totalPages: number; remainingPages: number }) => number }
  ): Promise<unknown>
  close(): void
}
type SqliteConstructor = new (
  file: string,
  options?: { readonly?: boolean; fileMustExist?: boolean }
) => SqliteConnection

/** better-sqlite3, the driver Lucid uses for SQLite, opened outside Lucid's pool. */
export const Database: SqliteConstructor = createRequire(import.meta.url)('better-sqlite3')

/** Tables that hold Lucid's migration bookkeeping rather than school data. */
export const MIGRATION_TABLES = ['adonis_schema', 'adonis_schema_versions']

export interface DatabaseSnapshot {
  dialect: Dialect
  /** Path of the snapshot file in the backup's work folder. */
  file: string
  /** Archive member name. */
  member: string
  tables: Record<string, number>
  migrations: string[]
  serverVersion: string | null
}

export function currentDialect(): Dialect {
  return db.connection().dialect.name === 'postgres' ? 'postgres' : 'sqlite'
}

function connectionSettings(): Record<string, any> {
  const config = db.manager.get(db.primaryConnectionName)?.config
  return (config?.connection ?? {}) as Record<string, any>
}

/** The SQLite database file this process uses. */
export function sqliteFile(): string {
  return resolve(String(connectionSettings().filename))
}

/** Migration names this Quad ships, as Lucid records them ("database/migrations/…"). */
export function shippedMigrations(): string[] {
  const folder = app.makePath('database', 'migrations')
  if (!existsSync(folder)) return []
  return readdirSync(folder)
    .filter((name) => /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts'))
    .map((name) => `database/migrations/${name.replace(/\.(ts|js)$/, '')}`)
    .sort()
}

/** Applied migrations that this Quad does not know: the backup came from a newer Quad. */
export function unknownMigrations(applied: string[]): string[] {
  const known = new Set(shippedMigrations())
  return applied.filter((name) => !known.has(name))
}

function quoteSqlite(name: string) {
  return `"${name.replace(/"/g, '""')}"`
}

function countSqlite(file: string) {
  const connection = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const tables = connection
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
      )
      .all() as { name: string }[]
    const counts: Record<string, number> = {}
    for (const { name } of tables)
      counts[name] = Number(
        (connection.prepare(`SELECT COUNT(*) AS n FROM ${quoteSqlite(name)}`).get() as any).n
      )
    const migrations = counts.adonis_schema
      ? (connection.prepare('SELECT name FROM adonis_schema ORDER BY name').all() as any[]).map(
          (row) => String(row.name)
        )
      : []
    return { counts, migrations }
  } finally {
    connection.close()
  }
}

/** Row counts per table and applied migrations of a database connection. */
export async function tableCounts(
  client: QueryClientContract = db.connection()
): Promise<{ counts: Record<string, number>; migrations: string[] }> {
  const tables = await listTables(client)
  const counts: Record<string, number> = {}
  for (const table of tables) {
    const row = await client.from(table).count('* as n').first()
    counts[table] = Number(row?.n ?? 0)
  }
  const rows = tables.includes('adonis_schema')
    ? await client.from('adonis_schema').select('name').orderBy('name')
    : []
  const migrations = rows.map((row: any) => String(row.name))
  return { counts, migrations }
}

/** User tables of a connection, sorted by name. */
export async function listTables(client: QueryClientContract): Promise<string[]> {
  if (client.dialect.name === 'postgres') {
    const result = await client.rawQuery(
      'SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename'
    )
    return result.rows.map((row: any) => String(row.tablename))
  }
  const rows = await client.rawQuery(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
  )
  return (rows as any[]).map((row) => String(row.name))
}

/**
 * Copies the SQLite database page by page through SQLite's online backup
 * API on a connection of its own: writers keep working, and the copy is one
 * consistent state of the database.
 */
async function snapshotSqlite(
  workDir: string,
  onProgress: (done: number, total: number) => void
): Promise<DatabaseSnapshot> {
  const file = join(workDir, 'quad.sqlite3')
  const source = new Database(sqliteFile(), { fileMustExist: true })
  try {
    source.pragma('busy_timeout = 5000')
    await source.backup(file, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress(totalPages - remainingPages, totalPages)
        return 1000
      },
    })
  } finally {
    source.close()
  }
  // The copy is a whole database on its own: no WAL file travels with it.
  const copy = new Database(file)
  copy.pragma('journal_mode = DELETE')
  copy.close()
  const { counts, migrations } = countSqlite(file)
  return {
    dialect: 'sqlite',
    file,
    member: 'database/quad.sqlite3',
    tables: counts,
    migrations,
    serverVersion: sqliteVersion(),
  }
}

function sqliteVersion(): string {
  const memory = new Database(':memory:')
  try {
    return String((memory.prepare('SELECT sqlite_version() AS v').get() as any).v)
  } finally {
    memory.close()
  }
}

/** libpq environment for the PostgreSQL connection; the password never goes on a command line. */
function pgEnvironment(): Record<string, string> {
  const settings = connectionSettings()
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  env.PGHOST = String(settings.host ?? '127.0.0.1')
  env.PGPORT = String(settings.port ?? 5432)
  env.PGUSER = String(settings.user ?? 'postgres')
  env.PGDATABASE = String(settings.database ?? 'quad')
  if (settings.password) env.PGPASSWORD = String(settings.password)
  else delete env.PGPASSWORD
  env.PGSSLMODE = settings.ssl ? 'verify-full' : 'disable'
  return env
}

async function serverMajor(client: QueryClientContract = db.connection()) {
  const result = await client.rawQuery('SHOW server_version_num')
  const number = Number(result.rows[0].server_version_num)
  const version = await client.rawQuery('SHOW server_version')
  return { major: Math.floor(number / 10000), version: String(version.rows[0].server_version) }
}

function toolMajor(path: string): number | null {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8' })
  const match = /(\d+)(?:\.\d+)?/.exec(result.stdout ?? '')
  return result.status === 0 && match ? Number(match[1]) : null
}

/**
 * Finds pg_dump or pg_restore for the server's major version: Debian's
 * versioned folder first, then PATH. A client older than the server cannot
 * dump it, so that is refused with the package to install.
 */
export function findPgTool(tool: 'pg_dump' | 'pg_restore', major: number): string {
  const candidates = [`/usr/lib/postgresql/${major}/bin/${tool}`]
  const onPath = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' })
  if (onPath.status === 0 && onPath.stdout.trim()) candidates.push(onPath.stdout.trim())
  let tooOld: string | null = null
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue
    const found = toolMajor(candidate)
    if (found !== null && found >= major) return candidate
    if (found !== null) tooOld = `${candidate} is version ${found}`
  }
  throw new BackupError(
    'pg_tool_missing',
    `${tool} for PostgreSQL ${major} was not found${tooOld ? ` (${tooOld})` : ''}: install the package postgresql-client-${major}.`
  )
}

function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolvePromise()
      else
        reject(
          new BackupError(
            'pg_tool_failed',
            `${basename(command)} failed (exit ${code}): ${stderr.trim().slice(0, 800)}`
          )
        )
    })
  })
}

/**
 * pg_dump in custom format, run inside a snapshot exported by a repeatable
 * read transaction: the dump, the row counts and the migration list all
 * show the same instant.
 */
async function snapshotPostgres(workDir: string): Promise<DatabaseSnapshot> {
  const { major, version } = await serverMajor()
  const pgDump = findPgTool('pg_dump', major)
  const file = join(workDir, 'quad.pgdump')
  const trx = await db.transaction({ isolationLevel: 'repeatable read' })
  try {
    const exported = await trx.rawQuery('SELECT pg_export_snapshot() AS id')
    const snapshotId = String(exported.rows[0].id)
    const { counts, migrations } = await tableCounts(trx)
    await run(
      pgDump,
      [
        '--format=custom',
        '--no-owner',
        '--no-privileges',
        `--snapshot=${snapshotId}`,
        '--file',
        file,
      ],
      pgEnvironment()
    )
    return {
      dialect: 'postgres',
      file,
      member: 'database/quad.pgdump',
      tables: counts,
      migrations,
      serverVersion: version,
    }
  } finally {
    await trx.rollback()
  }
}

/** Takes the database snapshot for a backup into `workDir`. */
export function snapshotDatabase(
  workDir: string,
  onProgress: (done: number, total: number) => void = () => {}
): Promise<DatabaseSnapshot> {
  return currentDialect() === 'postgres'
    ? snapshotPostgres(workDir)
    : snapshotSqlite(workDir, onProgress)
}

/**
 * Other processes that use this database right now: PostgreSQL sessions on
 * the same database, or on SQLite processes of this user that hold the file
 * open (read from /proc; other users' processes are not visible).
 */
export async function otherDatabaseUsers(): Promise<string[]> {
  if (currentDialect() === 'postgres') {
    // With this process's pool closed, the next query opens the only
    // connection of ours: every other session belongs to someone else.
    await db.manager.closeAll()
    const result = await db.connection().rawQuery(
      `SELECT pid, client_addr FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`
    )
    return result.rows.map(
      (row: any) =>
        `PostgreSQL session ${row.pid}${row.client_addr ? ` from ${row.client_addr}` : ''}`
    )
  }
  const file = sqliteFile()
  const watched = new Set([file, `${file}-wal`, `${file}-shm`])
  const users: string[] = []
  if (!existsSync('/proc')) return users
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    let descriptors: string[]
    try {
      descriptors = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of descriptors) {
      let target: string
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      if (watched.has(target)) {
        users.push(`process ${pid}`)
        break
      }
    }
  }
  return users
}

/**
 * Replaces the SQLite database with the restored file: this process's
 * connections are closed, the old WAL is removed (it belongs to the old
 * file and would corrupt the new one), and the file is renamed into place.
 */
export async function swapSqliteFile(restored: string): Promise<void> {
  const file = sqliteFile()
  const check = new Database(restored, { fileMustExist: true })
  try {
    const result = check.pragma('quick_check', { simple: true })
    if (result !== 'ok')
      throw new BackupError('corrupted', `The restored SQLite database fails its check: ${result}`)
  } finally {
    check.close()
  }
  await db.manager.closeAll()
  const staged = `${file}.restoring`
  renameSync(restored, staged)
  for (const suffix of ['-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
  renameSync(staged, file)
}

/** Restores a custom-format dump into the PostgreSQL database, replacing what the dump holds. */
export async function restorePostgres(dump: string, tables: string[]): Promise<void> {
  const { major } = await serverMajor()
  // Tables the backup does not know come from migrations newer than it; its
  // adonis_schema no longer lists them, so they go, and migration:run
  // creates them again.
  const keep = new Set(tables)
  for (const table of await listTables(db.connection()))
    if (!keep.has(table)) await db.connection().rawQuery('DROP TABLE IF EXISTS ?? CASCADE', [table])
  const pgRestore = findPgTool('pg_restore', major)
  const env = pgEnvironment()
  await db.manager.closeAll()
  await run(
    pgRestore,
    [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${env.PGDATABASE}`,
      dump,
    ],
    env
  )
}
