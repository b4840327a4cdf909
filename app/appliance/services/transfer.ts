import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { MigrationRunner } from '@adonisjs/lucid/migration'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import {
  listTables,
  MIGRATION_TABLES,
  shippedMigrations,
} from '#appliance/services/backup_database'

/**
 * Moves a school's data from the database Quad uses now to the other one
 * (SQLite to PostgreSQL, or back): migrates the target to the same schema,
 * copies every table in foreign-key order and in batches with the same ids,
 * resets PostgreSQL's sequences and compares row counts.
 */

export type TransferTarget = 'pg' | 'sqlite'

export type TransferProgress =
  | { stage: 'migrate' }
  | { stage: 'copy'; table: string; copied: number; total: number }
  | { stage: 'verify' }

export interface TransferSummary {
  from: string
  to: TransferTarget
  tables: { table: string; source: number; target: number }[]
  rows: number
  seconds: number
}

export type TransferError =
  | 'same_connection'
  | 'source_pending_migrations'
  | 'target_unreachable'
  | 'target_migration_failed'
  | 'target_schema_differs'
  | 'target_not_empty'
  | 'count_mismatch'

/** Rows per INSERT stay under both databases' limit on bound parameters. */
const MAX_PARAMETERS = 30_000

/**
 * knex writes a multi-row INSERT on SQLite as a compound SELECT, which
 * SQLite limits to 500 terms.
 */
const MAX_SQLITE_ROWS = 400

/**
 * How Quad writes times on SQLite, which has no time type: Lucid models
 * write "yyyy-MM-dd HH:mm:ss", the job tables write fixed-width text with
 * milliseconds (compared as text), and the session store writes epoch
 * milliseconds. Times coming from PostgreSQL are written the same way.
 */
const SQLITE_TIME_STYLE: Record<string, 'text_ms' | 'epoch_ms'> = {
  'jobs.*': 'text_ms',
  'schedule_runs.*': 'text_ms',
  'sessions.expires_at': 'epoch_ms',
}

function timeStyle(table: string, column: string) {
  return SQLITE_TIME_STYLE[`${table}.${column}`] ?? SQLITE_TIME_STYLE[`${table}.*`] ?? 'lucid'
}

function isPostgres(client: QueryClientContract) {
  return client.dialect.name === 'postgres'
}

/** Declared column types of a table, lower-cased ("timestamp with time zone", "datetime", …). */
async function columnTypes(client: QueryClientContract, table: string) {
  const types = new Map<string, string>()
  if (isPostgres(client)) {
    const result = await client.rawQuery(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ?`,
      [table]
    )
    for (const row of result.rows) types.set(row.column_name, String(row.data_type).toLowerCase())
  } else {
    const rows = await client.rawQuery(`SELECT name, type FROM pragma_table_info(?)`, [table])
    for (const row of rows as any[]) types.set(row.name, String(row.type).toLowerCase())
  }
  return types
}

async function primaryKey(client: QueryClientContract, table: string): Promise<string[]> {
  if (isPostgres(client)) {
    const result = await client.rawQuery(
      `SELECT a.attname AS name FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = ?::regclass AND i.indisprimary ORDER BY a.attnum`,
      [table]
    )
    return result.rows.map((row: any) => String(row.name))
  }
  const rows = await client.rawQuery(`SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0`, [
    table,
  ])
  return (rows as any[]).sort((a, b) => a.pk - b.pk).map((row) => String(row.name))
}

async function foreignKeyParents(client: QueryClientContract, table: string): Promise<string[]> {
  if (isPostgres(client)) {
    const result = await client.rawQuery(
      `SELECT DISTINCT confrelid::regclass::text AS parent FROM pg_constraint
       WHERE contype = 'f' AND conrelid = ?::regclass`,
      [table]
    )
    return result.rows.map((row: any) => String(row.parent).replace(/^"|"$/g, ''))
  }
  const rows = await client.rawQuery(
    `SELECT DISTINCT "table" AS parent FROM pragma_foreign_key_list(?)`,
    [table]
  )
  return (rows as any[]).map((row) => String(row.parent))
}

/** Tables ordered so that every table comes after the tables its foreign keys point to. */
export async function dependencyOrder(client: QueryClientContract, tables: string[]) {
  const parents = new Map<string, string[]>()
  for (const table of tables) {
    const found = await foreignKeyParents(client, table)
    parents.set(
      table,
      found.filter((parent) => parent !== table && tables.includes(parent))
    )
  }
  const ordered: string[] = []
  const visiting = new Set<string>()
  const visit = (table: string) => {
    if (ordered.includes(table) || visiting.has(table)) return
    visiting.add(table)
    for (const parent of parents.get(table) ?? []) visit(parent)
    visiting.delete(table)
    ordered.push(table)
  }
  for (const table of [...tables].sort()) visit(table)
  return ordered
}

/** A source value as the target database stores it. */
function convert(
  value: unknown,
  type: string | undefined,
  table: string,
  column: string,
  toPostgres: boolean
): unknown {
  if (value === null || value === undefined) return null
  const kind = type ?? ''
  if (toPostgres) {
    if (kind.startsWith('timestamp')) {
      if (typeof value === 'number') return new Date(value)
      if (typeof value === 'string' && !/[zZ]|[+-]\d\d:?\d\d$/.test(value.trim())) {
        // SQLite text times are UTC without an offset; say so, whatever the session zone is.
        const time = DateTime.fromSQL(value, { zone: 'utc' })
        const parsed = time.isValid ? time : DateTime.fromISO(value, { zone: 'utc' })
        if (parsed.isValid) return parsed.toJSDate()
      }
      return value
    }
    if (kind === 'boolean' && typeof value === 'number') return value !== 0
    return value
  }
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) {
    const time = DateTime.fromJSDate(value, { zone: 'utc' })
    if (kind === 'date') return time.toFormat('yyyy-MM-dd')
    const style = timeStyle(table, column)
    if (style === 'epoch_ms') return value.getTime()
    if (style === 'text_ms' || time.millisecond !== 0)
      return time.toFormat('yyyy-MM-dd HH:mm:ss.SSS')
    return time.toFormat('yyyy-MM-dd HH:mm:ss')
  }
  if (typeof value === 'object' && !Buffer.isBuffer(value)) return JSON.stringify(value)
  return value
}

async function migrateTarget(target: TransferTarget) {
  const runner = new MigrationRunner(db, app, { direction: 'up', connectionName: target })
  await runner.run()
  if (runner.error) throw runner.error
}

async function appliedMigrations(client: QueryClientContract): Promise<string[]> {
  const tables = await listTables(client)
  if (!tables.includes('adonis_schema')) return []
  const rows = await client.from('adonis_schema').select('name').orderBy('name')
  return rows.map((row: any) => String(row.name))
}

/**
 * Tables whose rows a fresh migration seeds (built-in roles, default card
 * types and upgrade rules, counters). They are replaced by the copy like
 * every table, but rows in them alone do not make a target hold a school.
 */
const SEEDED_BY_MIGRATIONS = new Set([
  'roles',
  'card_types',
  'card_upgrade_rules',
  'card_counters',
  'terminal_offline_limits',
])

/** Tables holding rows beyond what a fresh migration leaves (the audit chain's zero head, seeds). */
async function occupiedTables(client: QueryClientContract, tables: string[]) {
  const occupied: string[] = []
  for (const table of tables) {
    if (SEEDED_BY_MIGRATIONS.has(table)) continue
    const query = client.from(table)
    if (table === 'audit_heads') query.where('seq', '>', 0)
    const row = await query.count('* as n').first()
    if (Number(row?.n ?? 0) > 0) occupied.push(table)
  }
  return occupied
}

async function copyTable(
  source: TransactionClientContract,
  target: TransactionClientContract,
  table: string,
  options: { batchSize: number; onProgress: (copied: number, total: number) => void }
) {
  const counted = await source.from(table).count('* as n').first()
  const total = Number(counted?.n ?? 0)
  const types = await columnTypes(target, table)
  const toPostgres = isPostgres(target)
  const key = await primaryKey(source, table)
  const columns = [...types.keys()]
  const batch = Math.max(
    1,
    Math.min(
      options.batchSize,
      toPostgres ? Number.POSITIVE_INFINITY : MAX_SQLITE_ROWS,
      Math.floor(MAX_PARAMETERS / Math.max(columns.length, 1))
    )
  )
  let copied = 0
  let last: unknown
  while (copied < total) {
    const query = source.from(table).select('*').limit(batch)
    // One-column keys page by key; other tables by offset inside the same snapshot.
    if (key.length === 1) {
      if (last !== undefined) query.where(key[0], '>', last as any)
      query.orderBy(key[0])
    } else {
      for (const column of key.length > 0 ? key : columns) query.orderBy(column)
      query.offset(copied)
    }
    const rows: Record<string, unknown>[] = await query
    if (rows.length === 0) break
    const converted = rows.map((row) => {
      const out: Record<string, unknown> = {}
      for (const [column, value] of Object.entries(row))
        if (types.has(column))
          out[column] = convert(value, types.get(column), table, column, toPostgres)
      return out
    })
    await target.insertQuery().table(table).multiInsert(converted)
    copied += rows.length
    if (key.length === 1) last = rows[rows.length - 1][key[0]]
    options.onProgress(copied, total)
  }
  return total
}

/** Moves every sequence behind a serial column past the highest id copied. */
async function resetSequences(target: TransactionClientContract, tables: string[]) {
  for (const table of tables) {
    const result = await target.rawQuery(
      `SELECT column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ?
       AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')`,
      [table]
    )
    for (const { column_name: column } of result.rows)
      await target.rawQuery(
        `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX(??), 0) + 1, false) FROM ??`,
        [table, column, column, table]
      )
  }
}

/**
 * Copies the current database into the other connection. The target is
 * migrated first; a target that holds data is refused unless `force`
 * (PostgreSQL tables are truncated, a SQLite file is replaced). The copy is
 * one transaction on the target: it lands whole or not at all.
 */
export async function transferDatabase(options: {
  to: TransferTarget
  force: boolean
  actor: AuditActor
  batchSize?: number
  onProgress?: (progress: TransferProgress) => void
}): Promise<Result<TransferSummary, TransferError>> {
  const started = Date.now()
  const { to, onProgress = () => {} } = options
  const from = db.primaryConnectionName
  if (from === to) return fail('same_connection', { from })
  const source = db.connection()

  const applied = await appliedMigrations(source)
  const shipped = shippedMigrations()
  const pending = shipped.filter((name) => !applied.includes(name))
  if (pending.length > 0) return fail('source_pending_migrations', { pending })

  let target = db.connection(to)
  try {
    await target.rawQuery('SELECT 1')
  } catch (error) {
    return fail('target_unreachable', { message: (error as Error).message.slice(0, 300) })
  }

  const allTables = await listTables(source)
  const tables = allTables.filter((table) => !MIGRATION_TABLES.includes(table))
  if (options.force && to === 'sqlite') {
    const existing = await listTables(target)
    const holding = await occupiedTables(
      target,
      existing.filter((table) => !MIGRATION_TABLES.includes(table))
    )
    if (holding.length > 0) {
      // A fresh file is the clean way to empty SQLite: its audit triggers refuse DELETE.
      const file = resolve(String((db.manager.get('sqlite')?.config.connection as any).filename))
      await db.manager.close('sqlite')
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
      target = db.connection(to)
    }
  }

  onProgress({ stage: 'migrate' })
  try {
    await migrateTarget(to)
  } catch (error) {
    return fail('target_migration_failed', { message: (error as Error).message.slice(0, 300) })
  }
  const targetApplied = await appliedMigrations(target)
  if (targetApplied.join('\n') !== applied.join('\n'))
    return fail('target_schema_differs', {
      missing: applied.filter((name) => !targetApplied.includes(name)),
      extra: targetApplied.filter((name) => !applied.includes(name)),
    })
  const targetTables = new Set(await listTables(target))
  const absent = tables.filter((table) => !targetTables.has(table))
  if (absent.length > 0) return fail('target_schema_differs', { missing: absent })

  const occupied = await occupiedTables(target, tables)
  if (occupied.length > 0 && !options.force) return fail('target_not_empty', { tables: occupied })

  const order = await dependencyOrder(source, tables)
  const counts: { table: string; source: number; target: number }[] = []
  const reading = await db.transaction(
    isPostgres(source) ? { isolationLevel: 'repeatable read' } : {}
  )
  try {
    await db.connection(to).transaction(async (trx) => {
      if (isPostgres(trx)) {
        // TRUNCATE skips the audit log's row triggers, which refuse DELETE.
        await trx.rawQuery(
          `TRUNCATE ${order.map(() => '??').join(', ')} RESTART IDENTITY CASCADE`,
          order
        )
      } else {
        await trx.rawQuery('PRAGMA defer_foreign_keys = ON')
        // Only rows a fresh migration seeds are here (checked above).
        for (const table of [...order].reverse()) await trx.from(table).delete()
      }
      for (const table of order) {
        const total = await copyTable(reading, trx, table, {
          batchSize: options.batchSize ?? 1000,
          onProgress: (copied, all) => onProgress({ stage: 'copy', table, copied, total: all }),
        })
        counts.push({ table, source: total, target: 0 })
      }
      if (isPostgres(trx)) await resetSequences(trx, order)
    })
  } finally {
    await reading.rollback()
  }

  onProgress({ stage: 'verify' })
  for (const entry of counts) {
    const row = await db.connection(to).from(entry.table).count('* as n').first()
    entry.target = Number(row?.n ?? 0)
  }
  const mismatched = counts.filter((entry) => entry.source !== entry.target)
  if (mismatched.length > 0) return fail('count_mismatch', { tables: mismatched })

  // Lucid formats a model's times for the model's connection, not the
  // transaction's: point the audit model at the target while it writes there,
  // so the entry's time is stored the way the target's other rows are.
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  const modelConnection = AuditEntry.connection
  AuditEntry.connection = to
  try {
    await db.connection(to).transaction(async (trx) => {
      await recordAudit(
        options.actor,
        {
          action: 'appliance.database_transferred',
          subjectType: 'database',
          subjectId: to,
          meta: {
            from,
            to,
            tables: counts.length,
            rows: counts.reduce((sum, entry) => sum + entry.source, 0),
          },
        },
        trx
      )
    })
  } finally {
    AuditEntry.connection = modelConnection
  }
  return ok({
    from,
    to,
    tables: counts,
    rows: counts.reduce((sum, entry) => sum + entry.source, 0),
    seconds: (Date.now() - started) / 1000,
  })
}
