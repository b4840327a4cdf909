import test from 'ava'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp

const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url))

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool({ timeZone: 'Asia/Shanghai' })
})

test.after.always(async () => {
  await quad?.close()
})

async function services() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const audit = await import('#core/services/audit')
  const { verifyAuditChain } = await import('#core/services/audit_verify')
  return { db, ...audit, verifyAuditChain }
}

/** Given n entries appended through the real recordAudit, one transaction each. */
async function givenEntries(n: number, action = 'auth.login') {
  const { recordAudit } = await services()
  const entries = []
  for (let i = 0; i < n; i++) {
    entries.push(
      await recordAudit(
        { type: 'user', id: `U${i}`, name: `user${i}`, ip: '10.0.0.7' },
        { action, subjectType: 'user', subjectId: `U${i}`, after: { index: i } }
      )
    )
  }
  return entries
}

async function headSeq() {
  const { db } = await services()
  const head = await db.from('audit_heads').where('id', 1).firstOrFail()
  return Number(head.seq)
}

async function rowAt(seq: number) {
  const { db } = await services()
  return db.from('audit_entries').where('seq', seq).firstOrFail()
}

/**
 * What someone with database rights can do: switch the append-only trigger
 * off (PostgreSQL) or drop it (SQLite).
 */
async function bypassAppendOnly() {
  const { db } = await services()
  if (quad.dialect === 'pg') {
    await db.rawQuery('ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only')
  } else {
    await db.rawQuery('DROP TRIGGER audit_entries_no_update')
    await db.rawQuery('DROP TRIGGER audit_entries_no_delete')
  }
}

/** Puts the triggers back exactly as the migration creates them. */
async function restoreAppendOnly() {
  const { db } = await services()
  if (quad.dialect === 'pg') {
    await db.rawQuery('ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only')
  } else {
    await db.rawQuery(`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
      BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`)
    await db.rawQuery(`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
      BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`)
  }
}

/** Runs `node ace audit:verify` in a child process against this test's database. */
function aceVerify(args: string[] = []) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['ace', 'audit:verify', ...args],
      { cwd: APP_ROOT, env: process.env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      }
    )
  })
}

/** Runs audit:verify through the application's own ace kernel, in this process. */
async function aceVerifyInProcess(args: string[] = []) {
  const ace = await quad.app.container.make('ace')
  ace.ui.switchMode('raw')
  const command = await ace.exec('audit:verify', args)
  const logs = command.logger.getLogs().map((log: { message: string }) => log.message)
  return { exitCode: command.exitCode, logs }
}

test.serial('links each entry to the hash of the one before it', async (t) => {
  const { db, GENESIS_HASH, entryHash, verifyAuditChain } = await services()
  const before = await headSeq()
  const entries = await givenEntries(3)
  t.deepEqual(
    entries.map((entry) => Number(entry.seq)),
    [before + 1, before + 2, before + 3]
  )
  const rows = await db.from('audit_entries').orderBy('seq', 'asc')
  rows.forEach((row, index) => {
    t.is(row.prev_hash, index === 0 ? GENESIS_HASH : rows[index - 1].hash)
  })
  const last = entries[2]
  t.is(last.hash, entryHash({ ...last.$attributes, seq: Number(last.seq) } as never))
  const head = await db.from('audit_heads').where('id', 1).firstOrFail()
  t.is(head.hash, last.hash)

  const result = await verifyAuditChain()
  t.true(result.ok)
  if (result.ok) t.is(result.value.count, before + 3)
})

test.serial('keeps secrets out of before/after', async (t) => {
  const { recordAudit } = await services()
  const entry = await recordAudit(
    { type: 'system', name: 'system' },
    {
      action: 'auth.totp_enrolled',
      after: { username: 'li', totpSecret: 'JBSWY3DP', password: 'x' },
    }
  )
  const after = JSON.parse(entry.after!)
  t.is(after.username, 'li')
  t.is(after.totpSecret, '[redacted]')
  t.is(after.password, '[redacted]')
})

test.serial('verifies in batches with progress, whatever the batch size', async (t) => {
  const { verifyAuditChain } = await services()
  await givenEntries(23)
  const total = await headSeq()
  const progress: number[] = []
  const result = await verifyAuditChain({
    batchSize: 5,
    onProgress: (checked) => progress.push(checked),
  })
  t.true(result.ok)
  if (result.ok) t.is(result.value.count, total)
  t.is(progress.length, Math.ceil(total / 5))
  t.is(progress.at(-1), total)
})

test.serial('the database refuses to update or delete an audit entry', async (t) => {
  const { db } = await services()
  await givenEntries(1)
  const seq = await headSeq()
  // better-sqlite3's errors do not inherit from this realm's Error: accept any thrown value.
  const refused = { any: true, message: /append-only/ } as const
  await t.throwsAsync(async () => {
    await db.from('audit_entries').where('seq', seq).update({ action: 'auth.logout' })
  }, refused)
  await t.throwsAsync(async () => {
    await db.from('audit_entries').where('seq', seq).delete()
  }, refused)
  await t.throwsAsync(async () => {
    await db.from('audit_entries').delete()
  }, refused)
  const row = await rowAt(seq)
  t.is(row.action, 'auth.login')
})

test.serial('50 concurrent writers never fork the chain', async (t) => {
  const { db, recordAudit, verifyAuditChain } = await services()
  const before = await headSeq()
  await Promise.all(
    Array.from({ length: 50 }, (_, index) =>
      recordAudit(
        { type: 'terminal', id: `T${index}`, name: `gate-${index}` },
        { action: 'auth.login', meta: { index } }
      )
    )
  )
  const rows = await db
    .from('audit_entries')
    .where('seq', '>', before)
    .orderBy('seq', 'asc')
    .select('seq', 'prev_hash', 'hash')
  t.is(rows.length, 50)
  t.deepEqual(
    rows.map((row) => Number(row.seq)),
    Array.from({ length: 50 }, (_, index) => before + 1 + index)
  )
  // A fork would show as two entries claiming the same predecessor.
  const allPrev = await db.from('audit_entries').select('prev_hash')
  t.is(new Set(allPrev.map((row) => row.prev_hash)).size, allPrev.length)
  t.is(await headSeq(), before + 50)
  t.true((await verifyAuditChain()).ok)
})

test.serial('audit:verify reports OK with the number of entries', async (t) => {
  const total = await headSeq()
  const plain = await aceVerify()
  t.is(plain.code, 0, plain.stderr)
  t.regex(plain.stdout, new RegExp(`OK: ${total} entries verified`))

  const json = await aceVerify(['--json'])
  t.is(json.code, 0, json.stderr)
  const report = JSON.parse(json.stdout)
  t.true(report.ok)
  t.is(report.count, total)
})

test.serial('audit:verify finds the first entry edited behind the trigger', async (t) => {
  const { db } = await services()
  await givenEntries(6)
  const last = await headSeq()
  const first = last - 4
  const second = last - 1
  const original = await rowAt(first)
  const originalSecond = await rowAt(second)
  await bypassAppendOnly()
  try {
    // Hide a failed sign-in as a success, and change a later entry too.
    await db.from('audit_entries').where('seq', first).update({ outcome: 'failure' })
    await db.from('audit_entries').where('seq', second).update({ actor_name: 'someone' })

    const result = await aceVerify(['--json'])
    t.is(result.code, 1)
    const report = JSON.parse(result.stdout)
    t.false(report.ok)
    t.is(report.reason, 'hash_mismatch')
    t.is(report.seq, first)
    t.is(report.id, Number(original.id))
    // In the school's time zone, with its offset.
    t.regex(report.occurredAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/)
    t.is(report.found, original.hash)

    // The entry page's own check agrees.
    const { default: AuditEntry } = await import('#core/models/audit_entry')
    const { recomputeEntryHash } = await import('#core/services/audit_verify')
    const edited = await AuditEntry.findByOrFail('seq', first)
    t.not(recomputeEntryHash(edited), edited.hash)
    const untouched = await AuditEntry.findByOrFail('seq', first + 1)
    t.is(recomputeEntryHash(untouched), untouched.hash)

    const human = await aceVerify()
    t.is(human.code, 1)
    // The verdict goes to stderr, the explanation to stdout.
    t.regex(human.stderr, new RegExp(`BROKEN at seq ${first} \\(id ${Number(original.id)}, `))
    t.regex(human.stderr, /hash_mismatch/)
    t.regex(human.stdout, /it was edited/)
  } finally {
    await db.from('audit_entries').where('seq', first).update({ outcome: original.outcome })
    await db
      .from('audit_entries')
      .where('seq', second)
      .update({ actor_name: originalSecond.actor_name })
    await restoreAppendOnly()
  }
  t.is((await aceVerifyInProcess()).exitCode, 0)
})

test.serial('audit:verify finds an edit whose hash was recomputed', async (t) => {
  const { db, entryHash } = await services()
  const { DateTime } = await import('luxon')
  await givenEntries(3)
  const seq = (await headSeq()) - 1
  const original = await rowAt(seq)
  await bypassAppendOnly()
  try {
    // A careful attacker re-hashes the edited entry: then the next entry's link breaks.
    const occurredAt =
      original.occurred_at instanceof Date
        ? DateTime.fromJSDate(original.occurred_at)
        : DateTime.fromSQL(original.occurred_at, { zone: 'utc' })
    const forged = entryHash({
      seq,
      occurredAt,
      actorType: original.actor_type,
      actorId: original.actor_id,
      actorName: 'nobody',
      ip: original.ip,
      userAgent: original.user_agent,
      action: original.action,
      subjectType: original.subject_type,
      subjectId: original.subject_id,
      outcome: original.outcome,
      before: original.before,
      after: original.after,
      meta: original.meta,
      prevHash: original.prev_hash,
    })
    await db.from('audit_entries').where('seq', seq).update({ actor_name: 'nobody', hash: forged })

    const { exitCode, logs } = await aceVerifyInProcess(['--json'])
    t.is(exitCode, 1)
    const report = JSON.parse(logs.join(''))
    t.is(report.reason, 'broken_link')
    t.is(report.seq, seq + 1)
    t.is(report.found, original.hash)
    t.is(report.expected, forged)
  } finally {
    await db
      .from('audit_entries')
      .where('seq', seq)
      .update({ actor_name: original.actor_name, hash: original.hash })
    await restoreAppendOnly()
  }
  t.is((await aceVerifyInProcess()).exitCode, 0)
})

test.serial('audit:verify finds a deleted entry', async (t) => {
  const { db } = await services()
  await givenEntries(4)
  const seq = (await headSeq()) - 2
  const original = await rowAt(seq)
  await bypassAppendOnly()
  try {
    await db.from('audit_entries').where('seq', seq).delete()
    const result = await aceVerify(['--json'])
    t.is(result.code, 1)
    const report = JSON.parse(result.stdout)
    t.is(report.reason, 'missing_rows')
    t.is(report.seq, seq)
    t.is(report.id, null)
    t.regex(report.found, new RegExp(`seq ${seq + 1}`))
  } finally {
    await db.table('audit_entries').insert(original)
    await restoreAppendOnly()
  }
  t.is((await aceVerifyInProcess()).exitCode, 0)
})

test.serial('audit:verify finds a cut-off tail and a rewritten head', async (t) => {
  const { db } = await services()
  await givenEntries(2)
  const last = await headSeq()
  const original = await rowAt(last)
  await bypassAppendOnly()
  try {
    await db.from('audit_entries').where('seq', last).delete()
    const cut = await aceVerifyInProcess(['--json'])
    t.is(cut.exitCode, 1)
    t.like(JSON.parse(cut.logs.join('')), { reason: 'missing_rows', seq: last })
  } finally {
    await db.table('audit_entries').insert(original)
    await restoreAppendOnly()
  }
  const head = await db.from('audit_heads').where('id', 1).firstOrFail()
  await db
    .from('audit_heads')
    .where('id', 1)
    .update({ hash: 'f'.repeat(64) })
  try {
    const rewritten = await aceVerifyInProcess(['--json'])
    t.is(rewritten.exitCode, 1)
    t.like(JSON.parse(rewritten.logs.join('')), { reason: 'head_mismatch', seq: last })
  } finally {
    await db.from('audit_heads').where('id', 1).update({ hash: head.hash })
  }
  t.is((await aceVerifyInProcess()).exitCode, 0)
})
