import test from 'ava'
import { createWriteStream, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { aceEnvironment, runAce } from '#tests/helpers/ace'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'

let quad: TestApp
let operator: GivenAdmin
let auditor: GivenAdmin

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  await givenSchool({ timeZone: 'Asia/Shanghai' })
  operator = await givenAdmin('operator')
  auditor = await givenAdmin('auditor')
})

test.after.always(async () => {
  await quad?.close()
})

const KEY = { kind: 'key' as const, key: Buffer.alloc(32, 9) }

/** Writes a small real backup file whose header says it was made at `createdAt` (UTC). */
async function givenBackupMadeAt(createdAt: string) {
  const { newHeader, SealStream } = await import('#appliance/services/backup_format')
  const { backupsFolder } = await import('#appliance/services/backup')
  const time = DateTime.fromISO(createdAt, { zone: 'utc' })
  const name = `quad-SCMU-${time.toFormat("yyyyMMdd'T'HHmmss'Z'")}.qbk`
  const header = await newHeader(KEY, {
    createdAt: time.toISO()!,
    quadVersion: '0.1.0',
    school: 'SCMU',
    dialect: 'sqlite',
  })
  await pipeline(
    Readable.from([Buffer.from('archive')]),
    new SealStream(header),
    createWriteStream(join(backupsFolder(), name))
  )
  return name
}

function backupsOnDisk() {
  return readdirSync(join(quad.storage, 'backups')).sort()
}

async function emptyBackupsFolder() {
  for (const name of readdirSync(join(quad.storage, 'backups')))
    rmSync(join(quad.storage, 'backups', name))
}

test.serial('prune keeps the newest backup of each recent day, week and month', async (t) => {
  await emptyBackupsFolder()
  // Times in UTC; the school's days are Asia/Shanghai (UTC+8).
  const made = {
    newest: await givenBackupMadeAt('2026-11-28T04:00:00Z'),
    sameDayEarlier: await givenBackupMadeAt('2026-11-28T03:00:00Z'),
    day27: await givenBackupMadeAt('2026-11-27T04:00:00Z'),
    day26: await givenBackupMadeAt('2026-11-26T04:00:00Z'),
    day25: await givenBackupMadeAt('2026-11-25T04:00:00Z'),
    previousWeek: await givenBackupMadeAt('2026-11-20T04:00:00Z'),
    twoWeeksBack: await givenBackupMadeAt('2026-11-10T04:00:00Z'),
    october: await givenBackupMadeAt('2026-10-15T04:00:00Z'),
    september: await givenBackupMadeAt('2026-09-15T04:00:00Z'),
  }
  writeFileSync(join(quad.storage, 'backups', 'notes.txt'), 'not a backup')

  const pruned = await runAce(
    ['backup:prune', '--keep-daily', '3', '--keep-weekly', '2', '--keep-monthly', '3'],
    { env: aceEnvironment(quad) }
  )
  t.is(pruned.code, 0, pruned.output)
  t.deepEqual(
    backupsOnDisk(),
    [
      made.newest,
      made.day27,
      made.day26,
      made.previousWeek,
      made.october,
      made.september,
      'notes.txt',
    ].sort()
  )
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  const entry = await AuditEntry.query().where('action', 'appliance.backups_pruned').firstOrFail()
  t.regex(entry.actorName ?? '', /^operator:/)
  t.regex(entry.meta ?? '', new RegExp(made.twoWeeksBack))
})

test.serial('prune never deletes the newest backup, even when told to keep none', async (t) => {
  await emptyBackupsFolder()
  const newest = await givenBackupMadeAt('2026-11-28T04:00:00Z')
  await givenBackupMadeAt('2026-11-01T04:00:00Z')
  const dryRun = await runAce(
    ['backup:prune', '--keep-daily', '0', '--keep-weekly', '0', '--keep-monthly', '0', '--dry-run'],
    { env: aceEnvironment(quad) }
  )
  t.is(dryRun.code, 0, dryRun.output)
  t.is(backupsOnDisk().length, 2, 'a dry run deletes nothing')
  const pruned = await runAce(
    ['backup:prune', '--keep-daily', '0', '--keep-weekly', '0', '--keep-monthly', '0'],
    { env: aceEnvironment(quad) }
  )
  t.is(pruned.code, 0, pruned.output)
  t.deepEqual(backupsOnDisk(), [newest])
})

test.serial('backup:list shows each backup without needing its key', async (t) => {
  await emptyBackupsFolder()
  const name = await givenBackupMadeAt('2026-11-28T04:00:00Z')
  const listed = await runAce(['backup:list', '--json'], { env: aceEnvironment(quad) })
  t.is(listed.code, 0, listed.output)
  const [backup] = JSON.parse(listed.stdout)
  t.is(backup.name, name)
  t.is(backup.school, 'SCMU')
  t.is(backup.quadVersion, '0.1.0')
  t.is(backup.createdAt, '2026-11-28T04:00:00.000Z')
})

async function signedIn(admin: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  return client
}

test.serial('the System page warns when there is no backup', async (t) => {
  await emptyBackupsFolder()
  const client = await signedIn(operator)
  const console = await client.get('/console')
  t.regex(console.text, /href="\/console\/system"/, 'the navigation offers the System page')
  const page = await client.get('/console/system')
  t.is(page.status, 200)
  t.regex(page.text, /<h1>系统状态<\/h1>/)
  t.regex(page.text, /data-testid="backup-warning"/)
  t.regex(page.text, /还没有任何备份/)
  t.regex(page.text, /data-testid="backup-count">0</)
  t.regex(page.text, /未配置/, 'nightly backups are not configured in this test')
})

test.serial('the System page shows the last backup and warns when it is old', async (t) => {
  await emptyBackupsFolder()
  const recent = DateTime.utc().minus({ hours: 3 })
  const recentName = await givenBackupMadeAt(recent.toISO()!)
  await givenBackupMadeAt(DateTime.utc().minus({ days: 5 }).toISO()!)
  const client = await signedIn(operator)
  const page = await client.get('/console/system')
  t.is(page.status, 200)
  t.notRegex(page.text, /data-testid="backup-warning"/, 'a 3-hour-old backup is recent enough')
  t.regex(
    page.text,
    new RegExp(
      `data-testid="last-backup">${recent.setZone('Asia/Shanghai').toFormat('yyyy-MM-dd HH:mm:ss')}<`
    )
  )
  t.regex(page.text, new RegExp(`data-backup="${recentName}"`))
  t.regex(page.text, /data-testid="backup-count">2</)

  await emptyBackupsFolder()
  await givenBackupMadeAt(DateTime.utc().minus({ hours: 50 }).toISO()!)
  const stale = await client.get('/console/system')
  t.regex(stale.text, /data-testid="backup-warning"/)
  t.regex(stale.text, /已有 50 小时/)
})

test.serial('the System page is for signed-in accounts with system.read', async (t) => {
  const anonymous = new TestClient(quad.baseUrl)
  const response = await anonymous.get('/console/system')
  t.is(response.status, 302)
  t.is(response.location, '/login')

  const { roleGrants } = await import('#core/services/permissions')
  t.true(roleGrants('auditor', 'system.read'))
  const client = await signedIn(auditor)
  const page = await client.get('/console/system')
  t.is(page.status, 200)
  t.regex(page.text, /data-testid="backup-status"/)
})

test.serial(
  'the nightly job makes a backup with the configured key file, then prunes',
  async (t) => {
    await emptyBackupsFolder()
    // One backup on each of January 1st to 9th, 2025.
    const january: string[] = []
    for (let day = 1; day <= 9; day++)
      january.push(await givenBackupMadeAt(`2025-01-0${day}T04:00:00Z`))
    const keyFile = join(quad.storage, 'backup.key')
    writeFileSync(keyFile, Buffer.alloc(32, 9), { mode: 0o600 })
    process.env.QUAD_BACKUP_KEY_FILE = keyFile
    try {
      const { nightlyBackupJob, BACKUP_CRON } = await import('#appliance/services/backup_schedule')
      t.is(BACKUP_CRON, '30 2 * * *')
      const { default: logger } = await import('@adonisjs/core/services/logger')
      await nightlyBackupJob.handler(
        {},
        {
          jobId: 'test',
          name: nightlyBackupJob.name,
          attempt: 1,
          maxAttempts: 3,
          workerId: 'test-worker',
          logger,
          signal: new AbortController().signal,
        }
      )
      // 7 daily: tonight's and January 4th to 9th; they also cover the weeks and months.
      const names = backupsOnDisk()
      t.deepEqual(
        names.filter((name) => january.includes(name)),
        january.slice(3),
        'January 1st to 3rd are pruned'
      )
      t.is(names.length, 7)
      const made = names.find((name) => !january.includes(name))!
      const verified = await runAce(
        ['backup:verify', join(quad.storage, 'backups', made), '--key-file', keyFile],
        { env: aceEnvironment(quad) }
      )
      t.is(verified.code, 0, verified.output)

      const client = await signedIn(operator)
      const page = await client.get('/console/system')
      t.regex(page.text, /已配置/)
      t.notRegex(page.text, /data-testid="backup-warning"/)
    } finally {
      delete process.env.QUAD_BACKUP_KEY_FILE
    }
  }
)
