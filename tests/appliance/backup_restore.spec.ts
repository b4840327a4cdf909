import test from 'ava'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import pg from 'pg'
import { bootTestApp, createPgDatabase, dropPgDatabase, type TestApp } from '#tests/helpers/app'
import { aceEnvironment, runAce } from '#tests/helpers/ace'

let quad: TestApp
let work: string
let passFile: string
let backupFile: string
/** Row counts per table at the moment of the backup. */
let countsAtBackup: Record<string, number>
const cleanups: (() => Promise<void> | void)[] = []

const PASSPHRASE = '正确的马 battery staple 42'

test.before(async () => {
  quad = await bootTestApp({ http: false })
  work = mkdtempSync(join(tmpdir(), 'quad-backup-test-'))
  passFile = join(work, 'backup.pass')
  writeFileSync(passFile, `${PASSPHRASE}\n`, { mode: 0o600 })

  // A school with data in every module that exists: org tree, people with
  // encrypted personal data, console accounts, audit entries, a job.
  const { LoadDemoSchool } = await import('#identity/actions/load_demo_school')
  const loaded = await new LoadDemoSchool().handle({ people: 120, seed: 7 })
  if (!loaded.ok) throw new Error(`demo school not loaded: ${loaded.error}`)
  await import('#appliance/services/jobs_maintenance')
  const { enqueue } = await import('#appliance/services/jobs')
  await enqueue('appliance.prune', {}, { delayMs: 3_600_000 })
  // Personal data encrypted with the PII key, and an uploaded photo.
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { encryptPii } = await import('#identity/services/pii')
  const { ensurePrivateDir } = await import('#appliance/services/storage_root')
  ensurePrivateDir(join(quad.storage, 'uploads', 'photos'))
  writeFileSync(join(quad.storage, 'uploads', 'photos', 'p1.jpg'), Buffer.alloc(4096, 7))
  const first = await db.from('people').orderBy('id').first()
  await db
    .from('people')
    .where('id', first.id)
    .update({ phone_ciphertext: encryptPii('phone', '13800138000'), photo_path: 'photos/p1.jpg' })
  const { tableCounts } = await import('#appliance/services/backup_database')
  countsAtBackup = (await tableCounts()).counts

  backupFile = join(work, 'school.qbk')
  const created = await runAce(
    ['backup:create', '--output', backupFile, '--passphrase-file', passFile],
    { env: aceEnvironment(quad) }
  )
  if (created.code !== 0) throw new Error(`backup:create failed: ${created.output}`)
})

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  if (work) rmSync(work, { recursive: true, force: true })
  await quad?.close()
})

/** A storage root and database of a fresh install on "another machine". */
async function freshInstall(name: string) {
  const storage = mkdtempSync(join(tmpdir(), `quad-restore-${name}-`))
  const database = `quad_restore_${process.pid}_${name}`
  cleanups.push(() => rmSync(storage, { recursive: true, force: true }))
  if (quad.dialect === 'pg') {
    await createPgDatabase(database)
    cleanups.push(() => dropPgDatabase(database))
  }
  const env = {
    ...aceEnvironment(quad),
    QUAD_STORAGE: storage,
    SQLITE_FILE: join(storage, 'db', 'quad.sqlite3'),
    PG_DATABASE: database,
  }
  return { storage, database, env }
}

async function countsOf(install: { storage: string; database: string }) {
  if (quad.dialect === 'pg') {
    const client = new pg.Client({
      host: process.env.PG_HOST ?? '127.0.0.1',
      port: Number(process.env.PG_PORT ?? 5432),
      user: process.env.PG_USER ?? 'postgres',
      password: process.env.PG_PASSWORD,
      database: install.database,
    })
    await client.connect()
    try {
      const tables = await client.query(
        'SELECT tablename FROM pg_tables WHERE schemaname = current_schema()'
      )
      const counts: Record<string, number> = {}
      for (const { tablename } of tables.rows)
        counts[tablename] = Number(
          (await client.query(`SELECT COUNT(*) AS n FROM "${tablename}"`)).rows[0].n
        )
      return counts
    } finally {
      await client.end()
    }
  }
  const { Database } = await import('#appliance/services/backup_database')
  const connection = new Database(join(install.storage, 'db', 'quad.sqlite3'), { readonly: true })
  try {
    const tables = connection
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
    const counts: Record<string, number> = {}
    for (const { name } of tables)
      counts[name] = Number(connection.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get().n)
    return counts
  } finally {
    connection.close()
  }
}

function fileDigests(root: string, folders: string[]) {
  const digests: Record<string, string> = {}
  const walk = (path: string) => {
    if (!existsSync(path)) return
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const inner = join(path, entry.name)
      if (entry.isDirectory()) walk(inner)
      else
        digests[relative(root, inner)] = createHash('sha256')
          .update(readFileSync(inner))
          .digest('hex')
    }
  }
  for (const folder of folders) walk(join(root, folder))
  return digests
}

test.serial('a backup verifies and says what it holds', async (t) => {
  t.is(statSync(backupFile).mode & 0o777, 0o600, 'the backup is private to its owner')
  const verified = await runAce(
    ['backup:verify', backupFile, '--passphrase-file', passFile, '--json'],
    {
      env: aceEnvironment(quad),
    }
  )
  t.is(verified.code, 0, verified.output)
  const { ok, manifest } = JSON.parse(verified.stdout.trim().split('\n').at(-1)!)
  t.true(ok)
  t.is(manifest.database.dialect, quad.dialect === 'pg' ? 'postgres' : 'sqlite')
  t.deepEqual(manifest.tables, countsAtBackup)
  t.true(manifest.schema.migrations.length > 0)
  const names = manifest.files.map((file: { name: string }) => file.name)
  t.true(names.includes('storage/keys/app.key'))
  t.true(names.includes('storage/keys/pii.key'), 'the personal-data key travels with the data')
  t.false(
    names.some((name: string) => /^storage\/(backups|tmp|logs)\//.test(name)),
    'backups, logs and tmp are not backed up'
  )
  // The backup is encrypted: no readable school data in it.
  t.false(readFileSync(backupFile).includes(Buffer.from('CREATE TABLE')))
})

test.serial(
  'restores into a fresh install with identical counts and a valid audit chain',
  async (t) => {
    const install = await freshInstall('drill')
    const restored = await runAce(
      ['backup:restore', backupFile, '--force', '--passphrase-file', passFile],
      { env: install.env }
    )
    t.is(restored.code, 0, restored.output)
    t.regex(restored.output, /every count matches/)

    const counts = await countsOf(install)
    // The restore writes one audit entry into the restored log: who restored what.
    t.deepEqual(counts, { ...countsAtBackup, audit_entries: countsAtBackup.audit_entries + 1 })
    t.deepEqual(
      fileDigests(install.storage, ['keys', 'pki', 'uploads']),
      fileDigests(quad.storage, ['keys', 'pki', 'uploads']),
      'keys, CA and uploads are restored byte for byte'
    )
    const audit = await runAce(['audit:verify'], { env: install.env })
    t.is(audit.code, 0, audit.output)

    t.truthy(
      fileDigests(install.storage, ['uploads'])['uploads/photos/p1.jpg'],
      'the uploaded photo is restored'
    )
  }
)

test.serial('refuses a restore without --force and changes nothing', async (t) => {
  const install = await freshInstall('noforce')
  const refused = await runAce(['backup:restore', backupFile, '--passphrase-file', passFile], {
    env: install.env,
  })
  t.is(refused.code, 1)
  t.regex(refused.output, /--force/)
})

async function refusal(file: string, env: Record<string, string | undefined> = {}) {
  const result = await runAce(['backup:verify', file, '--json'], {
    env: { ...aceEnvironment(quad), QUAD_BACKUP_PASSPHRASE: PASSPHRASE, ...env },
  })
  const last = result.stdout.trim().split('\n').at(-1) ?? '{}'
  return { code: result.code, ...(JSON.parse(last) as { problem?: string; message?: string }) }
}

test.serial('refuses a backup with one flipped byte anywhere', async (t) => {
  const original = readFileSync(backupFile)
  for (const position of [20, 300, Math.floor(original.length / 2), original.length - 5]) {
    const damaged = Buffer.from(original)
    damaged[position] ^= 0x01
    const file = join(work, `flipped-${position}.qbk`)
    writeFileSync(file, damaged)
    const result = await refusal(file)
    t.is(result.code, 1, `flipped byte at ${position}`)
    t.true(
      ['corrupted', 'header_corrupted'].includes(result.problem!),
      `byte ${position}: ${result.problem} ${result.message}`
    )
    t.regex(result.message!, /corrupted/)
  }
})

test.serial('refuses a truncated backup', async (t) => {
  for (const keep of [10, 200, Math.floor(statSync(backupFile).size / 2)]) {
    const file = join(work, `truncated-${keep}.qbk`)
    writeFileSync(file, readFileSync(backupFile))
    truncateSync(file, keep)
    const result = await refusal(file)
    t.is(result.code, 1)
    t.is(result.problem, 'truncated', `${keep} bytes: ${result.message}`)
    t.regex(result.message!, /truncated/)
  }
  // Cut exactly at a record boundary: right after the header, and after the
  // first sealed chunk. The missing "last chunk" flag gives it away.
  const bytes = readFileSync(backupFile)
  const headerLength = 51 + bytes.readUInt16BE(49) + 64
  const firstRecord = headerLength + 4 + bytes.readUInt32BE(headerLength) + 16
  for (const cut of [headerLength, firstRecord].filter((at) => at < bytes.length)) {
    const file = join(work, `boundary-${cut}.qbk`)
    writeFileSync(file, bytes.subarray(0, cut))
    const result = await refusal(file)
    t.is(result.problem, 'truncated', `cut at ${cut}: ${result.message}`)
  }
})

test.serial('refuses a wrong passphrase with a clear message', async (t) => {
  const result = await refusal(backupFile, { QUAD_BACKUP_PASSPHRASE: 'not the right passphrase' })
  t.is(result.code, 1)
  t.is(result.problem, 'wrong_passphrase')
  t.regex(result.message!, /Wrong passphrase/)
})

test.serial('refuses a backup from a newer schema, and restores nothing from it', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const future = 'database/migrations/9999999999999_from_a_future_quad'
  await db.table('adonis_schema').insert({ name: future, batch: 99, migration_time: new Date() })
  const file = join(work, 'newer.qbk')
  try {
    const created = await runAce(
      ['backup:create', '--output', file, '--passphrase-file', passFile],
      { env: aceEnvironment(quad) }
    )
    t.is(created.code, 0, created.output)
  } finally {
    await db.from('adonis_schema').where('name', future).delete()
  }
  const result = await refusal(file)
  t.is(result.code, 1)
  t.is(result.problem, 'newer_schema')
  t.regex(result.message!, /newer database schema/)
  t.regex(result.message!, /9999999999999_from_a_future_quad/)

  const install = await freshInstall('newer')
  const restored = await runAce(
    ['backup:restore', file, '--force', '--passphrase-file', passFile],
    {
      env: install.env,
    }
  )
  t.is(restored.code, 1)
  t.regex(restored.output, /newer database schema/)
  t.false(existsSync(join(install.storage, 'keys', 'pii.key')), 'no file was restored')
})

test.serial('refuses to restore over a database that Quad processes are using', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  // The test application holds the database open, as a running web process would.
  await db.from('schools').count('* as n')
  const before = (await import('#appliance/services/backup_database')).tableCounts
  const counts = (await before()).counts
  const refused = await runAce(
    ['backup:restore', backupFile, '--force', '--passphrase-file', passFile],
    { env: aceEnvironment(quad) }
  )
  t.is(refused.code, 1)
  t.regex(refused.output, /Other processes use the database/)
  t.deepEqual((await before()).counts, counts, 'nothing changed')
})
