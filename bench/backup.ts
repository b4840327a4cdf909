/**
 * Backup and restore of a school-sized Quad: 30,000 people (the demo
 * school's generator, plus copies beyond its 20,000 limit) and a large
 * audit log, on SQLite and on PostgreSQL. Prints the time of backup:create,
 * backup:verify and backup:restore (real `node ace` processes, restore into
 * a fresh storage root and database) and the backup's size.
 *
 *   npm run bench backup [-- --people 30000 --audit 200000 --db sqlite|pg]
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { option } from './support/cli.js'

const APP_ROOT = fileURLToPath(new URL('../', import.meta.url))

function run(command: string, args: string[], env: Record<string, string | undefined>) {
  return new Promise<{ code: number | null; output: string; seconds: number }>((resolve) => {
    const started = Date.now()
    const child = spawn(command, args, {
      cwd: APP_ROOT,
      env: { ...process.env, ...env } as Record<string, string>,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code) => resolve({ code, output, seconds: (Date.now() - started) / 1000 }))
  })
}

export default async function backupBench(args: string[]) {
  const dialect = option(args, 'db', '')
  if (!dialect) {
    // One child per database: the test boot helper reads TEST_DB when it loads.
    for (const db of ['sqlite', 'pg']) {
      const result = await run(
        process.execPath,
        ['--import=@poppinss/ts-exec', 'bench/run.ts', 'backup', ...args, '--db', db],
        { TEST_DB: db }
      )
      process.stdout.write(result.output)
      if (result.code !== 0) process.exitCode = 1
    }
    return
  }
  const people = Number(option(args, 'people', '30000'))
  const auditEntries = Number(option(args, 'audit', '200000'))

  const { bootTestApp, createPgDatabase, dropPgDatabase } = await import('../tests/helpers/app.js')
  const { aceEnvironment } = await import('../tests/helpers/ace.js')
  const quad = await bootTestApp({ http: false })
  const work = mkdtempSync(join(tmpdir(), 'quad-bench-'))
  const restoreDb = `quad_bench_restore_${process.pid}`
  try {
    const generated = Date.now()
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { LoadDemoSchool, DEMO_MAX_PEOPLE } = await import('#identity/actions/load_demo_school')
    const loaded = await new LoadDemoSchool().handle({
      people: Math.min(people, DEMO_MAX_PEOPLE),
      seed: 2026,
      batchSize: 400,
    })
    if (!loaded.ok) throw new Error(loaded.error)
    const { newPublicId } = await import('#core/services/ids')
    // Beyond the generator's limit: copies of generated people with new numbers.
    const template: any[] = await db.from('people').orderBy('id').limit(DEMO_MAX_PEOPLE)
    for (let made = DEMO_MAX_PEOPLE; made < people;) {
      const batch = template.slice(0, Math.min(400, people - made)).map((row, index) => {
        const copy = { ...row }
        delete copy.id
        return {
          ...copy,
          public_id: newPublicId(),
          person_no: `X${String(made + index).padStart(8, '0')}`,
        }
      })
      await db.table('people').multiInsert(batch)
      made += batch.length
    }
    const { recordAudit, SYSTEM_ACTOR } = await import('#core/services/audit')
    for (let written = 0; written < auditEntries;) {
      const count = Math.min(2000, auditEntries - written)
      await db.transaction(async (trx) => {
        for (let index = 0; index < count; index++)
          await recordAudit(
            { ...SYSTEM_ACTOR, name: 'bench' },
            {
              action: 'bench.card_payment',
              subjectType: 'wallet',
              subjectId: String((written + index) % people),
              after: { amount: ((written + index) % 5000) + 100, terminal: 'T-017' },
            },
            trx
          )
      })
      written += count
    }
    const { tableCounts } = await import('#appliance/services/backup_database')
    const { counts } = await tableCounts()
    const generationSeconds = (Date.now() - generated) / 1000

    const passFile = join(work, 'pass')
    writeFileSync(passFile, 'bench passphrase 2026\n', { mode: 0o600 })
    const file = join(work, 'bench.qbk')
    const env = aceEnvironment(quad)
    const created = await run(
      process.execPath,
      ['ace', 'backup:create', '--output', file, '--passphrase-file', passFile, '--no-ansi'],
      env
    )
    if (created.code !== 0) throw new Error(created.output)
    const verified = await run(
      process.execPath,
      ['ace', 'backup:verify', file, '--passphrase-file', passFile, '--no-ansi'],
      env
    )
    if (verified.code !== 0) throw new Error(verified.output)

    const fresh = join(work, 'fresh-storage')
    if (quad.dialect === 'pg') await createPgDatabase(restoreDb)
    const restored = await run(
      process.execPath,
      ['ace', 'backup:restore', file, '--force', '--passphrase-file', passFile, '--no-ansi'],
      {
        ...env,
        QUAD_STORAGE: fresh,
        SQLITE_FILE: join(fresh, 'db', 'quad.sqlite3'),
        PG_DATABASE: restoreDb,
      }
    )
    if (restored.code !== 0) throw new Error(restored.output)

    const sizeRow =
      quad.dialect === 'pg'
        ? await db.rawQuery('SELECT pg_database_size(current_database()) AS size')
        : null
    const databaseBytes =
      quad.dialect === 'sqlite'
        ? ['', '-wal']
            .map((suffix) => join(quad.storage, 'db', `quad.sqlite3${suffix}`))
            .filter((path) => existsSync(path))
            .reduce((sum, path) => sum + statSync(path).size, 0)
        : Number(sizeRow!.rows[0].size)
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
    console.log(`\n== backup benchmark on ${quad.dialect === 'pg' ? 'PostgreSQL' : 'SQLite'}`)
    console.log(
      `school: ${counts.people} people, ${counts.org_units} org units, ${counts.audit_entries} audit entries (generated in ${generationSeconds.toFixed(1)} s)`
    )
    console.log(`database size:     ${mb(databaseBytes)}`)
    console.log(`backup file size:  ${mb(statSync(file).size)}`)
    console.log(`backup:create      ${created.seconds.toFixed(1)} s (whole command, boot included)`)
    console.log(`backup:verify      ${verified.seconds.toFixed(1)} s`)
    console.log(`backup:restore     ${restored.seconds.toFixed(1)} s (into a fresh install)`)
  } finally {
    if (quad.dialect === 'pg') await dropPgDatabase(restoreDb)
    rmSync(work, { recursive: true, force: true })
    await quad.close()
  }
}
