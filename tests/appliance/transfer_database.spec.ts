import test from 'ava'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DateTime } from 'luxon'
import pg from 'pg'
import { bootTestApp, createPgDatabase, dropPgDatabase, type TestApp } from '#tests/helpers/app'
import { aceEnvironment, runAce } from '#tests/helpers/ace'

let quad: TestApp
let work: string
const databases: string[] = []

test.before(async () => {
  quad = await bootTestApp({ http: false })
  work = mkdtempSync(join(tmpdir(), 'quad-transfer-test-'))
  const { LoadDemoSchool } = await import('#identity/actions/load_demo_school')
  const loaded = await new LoadDemoSchool().handle({ people: 150, seed: 11 })
  if (!loaded.ok) throw new Error(`demo school not loaded: ${loaded.error}`)

  // Rows whose times each database stores its own way: a session (written
  // as a JS Date by the session store), a job (fixed-width text on SQLite)
  // and encrypted personal data.
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const user = await db.from('users').orderBy('id').first()
  await db.table('sessions').insert({
    id: 'transfer-test-session',
    data: '{}',
    user_id: String(user.id),
    expires_at: new Date(Date.UTC(2026, 10, 28, 12, 34, 56, 789)),
  })
  await import('#appliance/services/jobs_maintenance')
  const { enqueue } = await import('#appliance/services/jobs')
  await enqueue('appliance.prune', { note: 'moved' }, { delayMs: 3_600_000 })
  const { encryptPii } = await import('#identity/services/pii')
  const first = await db.from('people').orderBy('id').first()
  await db
    .from('people')
    .where('id', first.id)
    .update({ phone_ciphertext: encryptPii('phone', '13800138000') })
})

test.after.always(async () => {
  for (const name of databases) await dropPgDatabase(name)
  if (work) rmSync(work, { recursive: true, force: true })
  await quad?.close()
})

async function freshPgDatabase(label: string) {
  const name = `quad_transfer_${process.pid}_${label}`
  await createPgDatabase(name)
  databases.push(name)
  return name
}

/** One comparable form of a value, whichever database it came from. */
function normalize(value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'string') {
    if (/^-?\d{1,15}$/.test(value)) return Number(value)
    if (/^\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d(\.\d+)?)?$/.test(value))
      return DateTime.fromSQL(value, { zone: 'utc' }).toMillis()
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value))
      return DateTime.fromISO(value, { zone: 'utc' }).toMillis()
  }
  return value
}

type Snapshot = Record<string, string[]>

function rowsToSnapshot(table: string, rows: Record<string, unknown>[], snapshot: Snapshot) {
  snapshot[table] = rows
    .map((row) =>
      JSON.stringify(
        Object.keys(row)
          .sort()
          .map((column) => [column, normalize(row[column])])
      )
    )
    .sort()
}

async function readPg(database: string): Promise<Snapshot> {
  const client = new pg.Client({
    host: process.env.PG_HOST ?? '127.0.0.1',
    port: Number(process.env.PG_PORT ?? 5432),
    user: process.env.PG_USER ?? 'postgres',
    password: process.env.PG_PASSWORD,
    database,
  })
  await client.connect()
  try {
    const snapshot: Snapshot = {}
    const tables = await client.query(
      "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'adonis_schema%'"
    )
    for (const { tablename } of tables.rows)
      rowsToSnapshot(tablename, (await client.query(`SELECT * FROM "${tablename}"`)).rows, snapshot)
    return snapshot
  } finally {
    await client.end()
  }
}

async function readSqlite(file: string): Promise<Snapshot> {
  const { Database } = await import('#appliance/services/backup_database')
  const connection = new Database(file, { readonly: true })
  try {
    const snapshot: Snapshot = {}
    const tables = connection
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'adonis_schema%'"
      )
      .all()
    for (const { name } of tables)
      rowsToSnapshot(name, connection.prepare(`SELECT * FROM "${name}"`).all(), snapshot)
    return snapshot
  } finally {
    connection.close()
  }
}

async function readTestApp(): Promise<Snapshot> {
  return quad.dialect === 'pg'
    ? readPg(process.env.PG_DATABASE!)
    : readSqlite(join(quad.storage, 'db', 'quad.sqlite3'))
}

/**
 * Every row of the source is in the target, unchanged; the target's audit
 * log has one entry more: the transfer itself.
 */
function assertSameRows(t: any, source: Snapshot, target: Snapshot) {
  t.deepEqual(Object.keys(target).sort(), Object.keys(source).sort())
  for (const table of Object.keys(source)) {
    if (table === 'audit_entries' || table === 'audit_heads') continue
    t.deepEqual(target[table], source[table], `table ${table}`)
  }
  t.is(target.audit_entries.length, source.audit_entries.length + 1)
  const kept = new Set(target.audit_entries)
  t.true(
    source.audit_entries.every((row) => kept.has(row)),
    'every audit entry is kept as it was'
  )
}

async function transfer(
  to: 'pg' | 'sqlite',
  env: Record<string, string | undefined>,
  force = false
) {
  return runAce(
    ['database:transfer', '--to', to, '--batch-size', '97', ...(force ? ['--force'] : [])],
    {
      env: { ...aceEnvironment(quad), ...env },
    }
  )
}

test.serial('moving a school from SQLite to PostgreSQL keeps every row', async (t) => {
  // On SQLite the test school is the source; on PostgreSQL it first moves to
  // a SQLite file, which then moves on to a second PostgreSQL database.
  let sqliteEnv: Record<string, string | undefined>
  let source: Snapshot
  if (quad.dialect === 'sqlite') {
    sqliteEnv = {}
    source = await readTestApp()
  } else {
    const file = join(work, 'moved.sqlite3')
    const toSqlite = await transfer('sqlite', { SQLITE_FILE: file })
    t.is(toSqlite.code, 0, toSqlite.output)
    t.regex(toSqlite.output, /audit:verify passes on the target/)
    source = await readSqlite(file)
    assertSameRows(t, await readTestApp(), source)
    sqliteEnv = { DB_CONNECTION: 'sqlite', SQLITE_FILE: file }
  }

  const target = await freshPgDatabase('to_pg')
  const moved = await transfer('pg', { ...sqliteEnv, PG_DATABASE: target })
  t.is(moved.code, 0, moved.output)
  t.regex(moved.output, /every count matches/)
  t.regex(moved.output, /audit:verify passes on the target/)
  assertSameRows(t, source, await readPg(target))

  // The sequences continue after the copied ids: a new row gets a new id.
  const client = new pg.Client({
    host: process.env.PG_HOST ?? '127.0.0.1',
    user: process.env.PG_USER ?? 'postgres',
    password: process.env.PG_PASSWORD,
    database: target,
  })
  await client.connect()
  try {
    const max = Number((await client.query('SELECT MAX(id) AS id FROM org_units')).rows[0].id)
    const next = Number(
      (await client.query("SELECT nextval(pg_get_serial_sequence('org_units', 'id')) AS id"))
        .rows[0].id
    )
    t.true(next > max)
  } finally {
    await client.end()
  }
})

test.serial('refuses a target that holds data unless --force', async (t) => {
  const target = await freshPgDatabase('again')
  const env = quad.dialect === 'sqlite' ? {} : { DB_CONNECTION: 'pg' }
  const to = quad.dialect === 'sqlite' ? 'pg' : 'sqlite'
  const targetEnv =
    to === 'pg' ? { PG_DATABASE: target } : { SQLITE_FILE: join(work, 'again.sqlite3') }
  const first = await transfer(to, { ...env, ...targetEnv })
  t.is(first.code, 0, first.output)
  const second = await transfer(to, { ...env, ...targetEnv })
  t.is(second.code, 1)
  t.regex(second.output, /already holds data: nothing was copied/)
  const forced = await transfer(to, { ...env, ...targetEnv }, true)
  t.is(forced.code, 0, forced.output)
  t.regex(forced.output, /audit:verify passes on the target/)
})
