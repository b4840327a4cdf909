import test from 'ava'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp
let fileCounter = 0

test.before(async () => {
  quad = await bootTestApp({ http: false })
  await import('#tests/appliance/worker_test_jobs')
})

test.after.always(async () => {
  await quad?.close()
})

test.beforeEach(async () => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  await db.from('jobs').delete()
  await db.from('schedule_runs').delete()
})

/** A fresh file for a test's execution records. */
function recordsFile() {
  fileCounter += 1
  return join(quad.storage, `records-${fileCounter}.log`)
}

function executions(file: string): { key: string; worker: string; attempt: number }[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}

async function jobRow(publicId: string) {
  const { findJob } = await import('#appliance/services/jobs')
  const job = await findJob(publicId)
  if (!job) throw new Error(`job ${publicId} is gone`)
  return job
}

test.serial('enqueues a job only when the caller’s transaction commits', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { enqueue } = await import('#appliance/services/jobs')
  const file = recordsFile()

  await t.throwsAsync(
    db.transaction(async (trx) => {
      await enqueue('test.record', { key: 'rolled-back', file }, { trx })
      throw new Error('the business change failed')
    }),
    { message: 'the business change failed' }
  )
  t.is(
    await db
      .from('jobs')
      .count('* as total')
      .first()
      .then((row) => Number(row.total)),
    0
  )

  const id = await db.transaction((trx) =>
    enqueue('test.record', { key: 'committed', file }, { trx })
  )
  const job = await jobRow(id)
  t.is(job.status, 'pending')
  t.is(job.attempts, 0)
  t.deepEqual(JSON.parse(job.payload), { key: 'committed', file })
})

test.serial('refuses to enqueue a job type this process does not know', async (t) => {
  const { enqueue } = await import('#appliance/services/jobs')
  await t.throwsAsync(enqueue('test.no_such_job', {}), {
    message: /Unknown job "test.no_such_job"/,
  })
})

test.serial('retries a failing job with growing backoff, then marks it dead', async (t) => {
  const { enqueue, runDueJobs, MAX_ERROR_LENGTH } = await import('#appliance/services/jobs')
  const id = await enqueue('test.fail', { secret: 'hunter2-s3cret' })
  let now = new Date()
  const delays: number[] = []

  for (let attempt = 1; attempt <= 2; attempt++) {
    const outcomes = await runDueJobs({ workerId: 'test-worker', now })
    t.deepEqual(outcomes, [{ publicId: id, name: 'test.fail', outcome: 'failed' }])
    const job = await jobRow(id)
    t.is(job.status, 'failed')
    t.is(job.attempts, attempt)
    t.is(job.lockedBy, null)
    const delay = job.runAt.toMillis() - now.getTime()
    // base 1 s × 2^(attempt − 1), jittered down to no less than half of it
    const ceiling = 1000 * 2 ** (attempt - 1)
    t.true(delay >= ceiling / 2 - 1 && delay <= ceiling + 1, `attempt ${attempt}: ${delay} ms`)
    delays.push(delay)

    // Not due before its retry time.
    t.deepEqual(
      await runDueJobs({ workerId: 'test-worker', now: new Date(now.getTime() + 400) }),
      []
    )
    now = new Date(job.runAt.toMillis() + 1)
  }

  const last = await runDueJobs({ workerId: 'test-worker', now })
  t.deepEqual(last, [{ publicId: id, name: 'test.fail', outcome: 'dead' }])
  const dead = await jobRow(id)
  t.is(dead.status, 'dead')
  t.is(dead.attempts, 3)
  t.truthy(dead.finishedAt)
  t.regex(dead.lastError!, /^Error: cannot reach postgres:\/\/\[redacted\]@db\.internal/)
  t.false(dead.lastError!.includes('hunter2'), 'no credential is stored')
  t.true(dead.lastError!.length <= MAX_ERROR_LENGTH)
  // A dead job is not picked up again, however late.
  t.deepEqual(
    await runDueJobs({ workerId: 'test-worker', now: new Date(Date.now() + 86_400_000) }),
    []
  )
})

test.serial('picks a job up again once the lease of a worker that died expires', async (t) => {
  const { claimJobs, enqueue, runDueJobs } = await import('#appliance/services/jobs')
  const file = recordsFile()
  const id = await enqueue('test.record', { key: 'orphan', file })
  const t0 = new Date()

  const taken = await claimJobs('worker-that-dies', { limit: 5, leaseMs: 1000, now: t0 })
  t.deepEqual(
    taken.map((job) => job.publicId),
    [id]
  )
  t.is((await jobRow(id)).status, 'running')
  // While the lease lasts, nobody else gets the job.
  t.deepEqual(await claimJobs('other-worker', { limit: 5, now: new Date(t0.getTime() + 900) }), [])

  const outcomes = await runDueJobs({
    workerId: 'other-worker',
    now: new Date(t0.getTime() + 1500),
  })
  t.deepEqual(outcomes, [{ publicId: id, name: 'test.record', outcome: 'succeeded' }])
  const job = await jobRow(id)
  t.is(job.status, 'succeeded')
  t.is(job.attempts, 2)
  t.regex(job.lastError!, /worker-that-dies/)
  t.deepEqual(
    executions(file).map((run) => [run.key, run.worker, run.attempt]),
    [['orphan', 'other-worker', 2]]
  )
})

test.serial('a worker whose lease was taken over cannot overwrite the outcome', async (t) => {
  const { claimJobs, enqueue, executeJob } = await import('#appliance/services/jobs')
  const id = await enqueue('test.fail', { secret: 'x' })
  const t0 = new Date()
  const [stale] = await claimJobs('slow-worker', { limit: 1, leaseMs: 1000, now: t0 })
  const [fresh] = await claimJobs('fast-worker', {
    limit: 1,
    leaseMs: 60_000,
    now: new Date(t0.getTime() + 2000),
  })
  t.is(fresh.publicId, id)
  t.is(await executeJob(stale, { workerId: 'slow-worker' }), 'lost')
  const job = await jobRow(id)
  t.is(job.status, 'running')
  t.is(job.lockedBy, 'fast-worker')
})

test.serial('a job whose worker died on its last attempt ends dead, not running', async (t) => {
  const { buryAbandonedJobs, claimJobs, enqueue } = await import('#appliance/services/jobs')
  const id = await enqueue('test.record', { key: 'last', file: recordsFile() }, { maxAttempts: 1 })
  const t0 = new Date()
  await claimJobs('worker-that-dies', { limit: 1, leaseMs: 1000, now: t0 })
  t.deepEqual(await claimJobs('other-worker', { limit: 1, now: new Date(t0.getTime() + 5000) }), [])
  t.is(await buryAbandonedJobs(new Date(t0.getTime() + 5000)), 1)
  const job = await jobRow(id)
  t.is(job.status, 'dead')
  t.is(job.lockedBy, null)
  t.regex(job.lastError!, /Lease expired/)
})

test.serial('runs due jobs by priority, then in the order they fell due', async (t) => {
  const { claimJobs, enqueue } = await import('#appliance/services/jobs')
  const file = recordsFile()
  const now = Date.now()
  const late = await enqueue('test.record', { key: 'late', file }, { runAt: new Date(now - 1000) })
  const early = await enqueue(
    'test.record',
    { key: 'early', file },
    { runAt: new Date(now - 5000) }
  )
  const urgent = await enqueue('test.record', { key: 'urgent', file }, { priority: 10 })
  await enqueue('test.record', { key: 'future', file }, { delayMs: 60_000 })
  const claimed = await claimJobs('test-worker', { limit: 10 })
  t.deepEqual(
    claimed.map((job) => job.publicId),
    [urgent, early, late]
  )
})

test.serial('an operator re-runs a dead job with fresh attempts, and it is audited', async (t) => {
  const { enqueue, runDueJobs } = await import('#appliance/services/jobs')
  const { RerunJob } = await import('#appliance/actions/rerun_job')
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  const id = await enqueue('test.fail', { secret: 'x' }, { maxAttempts: 1 })
  await runDueJobs({ workerId: 'test-worker' })
  t.is((await jobRow(id)).status, 'dead')

  const actor = { type: 'user' as const, id: 'OPERATOR1', name: 'ops' }
  const result = await new RerunJob().handle(id, actor)
  t.true(result.ok)
  const job = await jobRow(id)
  t.is(job.status, 'pending')
  t.is(job.attempts, 0)
  t.is(job.finishedAt, null)
  t.true(job.runAt.toMillis() <= Date.now())
  const entry = await AuditEntry.query()
    .where('action', 'jobs.rerun')
    .where('subject_id', id)
    .firstOrFail()
  t.is(entry.actorId, 'OPERATOR1')
  t.deepEqual(JSON.parse(entry.before!), { status: 'dead', attempts: 1 })
  t.deepEqual(JSON.parse(entry.after!), { status: 'pending', attempts: 0 })

  // Pending again: nothing to re-run, and nothing more is audited.
  const again = await new RerunJob().handle(id, actor)
  t.deepEqual(again, { ok: false, error: 'not_rerunnable', details: undefined })
  const missing = await new RerunJob().handle('01ARZ3NDEKTSV4RRFFQ69G5FAV', actor)
  t.false(missing.ok)
  t.is(
    await AuditEntry.query()
      .where('action', 'jobs.rerun')
      .where('subject_id', id)
      .count('* as n')
      .first()
      .then((row) => Number(row!.$extras.n)),
    1
  )

  // The re-run job really runs again.
  const outcomes = await runDueJobs({ workerId: 'test-worker' })
  t.deepEqual(outcomes, [{ publicId: id, name: 'test.fail', outcome: 'dead' }])
})

test.serial('stored errors leave out credentials and are cut short', async (t) => {
  const { describeError, MAX_ERROR_LENGTH } = await import('#appliance/services/jobs')
  const text = describeError(
    new Error(
      'login failed: password=Tr0ub4dor&3 token: "abc.def" Authorization: Bearer eyJhbGciOi.x.y https://admin:pa55@sms.example.com/send'
    )
  )
  for (const secret of ['Tr0ub4dor', 'abc.def', 'eyJhbGciOi', 'pa55', 'admin:'])
    t.false(text.includes(secret), `${secret} leaked: ${text}`)
  t.regex(text, /^Error: login failed/)
  t.true(describeError(new Error('x'.repeat(10_000))).length <= MAX_ERROR_LENGTH)
})

test.serial(
  'a stopping worker lets running jobs finish and gives back those that overrun',
  async (t) => {
    const { enqueue } = await import('#appliance/services/jobs')
    const { Worker } = await import('#appliance/services/worker')
    const file = recordsFile()
    const quick = await enqueue('test.record', { key: 'quick', file, sleepMs: 150 })
    const worker = new Worker({
      id: 'graceful-worker',
      concurrency: 2,
      pollIntervalMs: 20,
      graceMs: 5000,
      schedules: false,
      defaultTimeZone: 'UTC',
    })
    await worker.start()
    await waitFor(async () => (await jobRow(quick)).status === 'running')
    await worker.stop()
    t.is(
      (await jobRow(quick)).status,
      'succeeded',
      'a running job finishes within the grace period'
    )

    const slow = await enqueue('test.record', { key: 'slow', file, sleepMs: 1500 })
    const impatient = new Worker({
      id: 'impatient-worker',
      concurrency: 2,
      pollIntervalMs: 20,
      graceMs: 100,
      schedules: false,
      defaultTimeZone: 'UTC',
    })
    await impatient.start()
    await waitFor(async () => (await jobRow(slow)).status === 'running')
    await impatient.stop()
    const released = await jobRow(slow)
    t.is(released.status, 'pending', 'a job that overruns the grace period goes back to the queue')
    t.is(released.attempts, 0, 'the interrupted attempt does not count')
    t.is(released.lockedBy, null)
  }
)

test.serial('each schedule tick runs once however many processes fire it', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { runTick } = await import('#appliance/services/scheduler')
  const { defineJob } = await import('#appliance/services/jobs_registry')
  let runs = 0
  const inline = {
    name: 'test.inline_tick',
    cron: '0 * * * *',
    target: { kind: 'handler' as const, handler: () => void runs++ },
  }
  const tickAt = new Date('2026-11-28T10:00:00.000Z')
  const outcomes = await Promise.all(
    ['box-a:1', 'box-b:2', 'box-c:3'].map((worker) => runTick(inline, tickAt, worker))
  )
  t.deepEqual(outcomes.toSorted(), ['succeeded', 'taken_elsewhere', 'taken_elsewhere'])
  t.is(runs, 1)
  // The next tick is a new one.
  t.is(await runTick(inline, new Date('2026-11-28T11:00:00.000Z'), 'box-a:1'), 'succeeded')

  defineJob('test.hourly', () => {})
  const viaJob = {
    name: 'test.job_tick',
    cron: '0 * * * *',
    target: { kind: 'job' as const, job: 'test.hourly' },
  }
  const jobOutcomes = await Promise.all(
    ['box-a:1', 'box-b:2'].map((worker) => runTick(viaJob, tickAt, worker))
  )
  t.deepEqual(jobOutcomes.toSorted(), ['enqueued', 'taken_elsewhere'])
  const jobs = await db.from('jobs').where('name', 'test.hourly')
  t.is(jobs.length, 1)
  t.deepEqual(JSON.parse(jobs[0].payload), {
    schedule: 'test.job_tick',
    tickAt: tickAt.toISOString(),
  })
  const run = await db.from('schedule_runs').where('schedule', 'test.job_tick').firstOrFail()
  t.is(run.job_public_id, jobs[0].public_id)
})

test.serial(
  'the hourly prune removes expired sessions, rate-limit rows and old finished jobs',
  async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { dbTime, enqueue } = await import('#appliance/services/jobs')
    const { pruneExpiredRows } = await import('#appliance/services/jobs_maintenance')
    const now = new Date()
    const ago = (days: number) => new Date(now.getTime() - days * 86_400_000)
    const inHours = (hours: number) => new Date(now.getTime() + hours * 3_600_000)

    // Written the way the session and limiter stores write them.
    await db.table('sessions').multiInsert([
      { id: 'expired', data: '{}', expires_at: inHours(-1) },
      { id: 'live', data: '{}', expires_at: inHours(1) },
    ])
    await db.table('rate_limits').multiInsert([
      { key: 'old', points: 3, expire: now.getTime() - 1000 },
      { key: 'current', points: 1, expire: now.getTime() + 60_000 },
      { key: 'forever', points: 1, expire: null },
    ])
    const file = recordsFile()
    const finished = async (status: string, finishedAt: Date) => {
      const id = await enqueue('test.record', { key: status, file })
      await db
        .from('jobs')
        .where('public_id', id)
        .update({ status, finished_at: dbTime(finishedAt) })
      return id
    }
    const oldSucceeded = await finished('succeeded', ago(8))
    const recentSucceeded = await finished('succeeded', ago(1))
    const oldDead = await finished('dead', ago(31))
    const recentDead = await finished('dead', ago(8))
    const pending = await enqueue('test.record', { key: 'pending', file })
    await db.table('schedule_runs').multiInsert([
      {
        schedule: 'x',
        tick_at: dbTime(ago(8)),
        status: 'succeeded',
        worker_id: 'w',
        started_at: dbTime(ago(8)),
      },
      {
        schedule: 'x',
        tick_at: dbTime(ago(1)),
        status: 'succeeded',
        worker_id: 'w',
        started_at: dbTime(ago(1)),
      },
    ])

    const result = await pruneExpiredRows(now)
    t.deepEqual(result, { sessions: 1, rateLimits: 1, succeeded: 1, dead: 1, scheduleRuns: 1 })
    t.deepEqual(
      (await db.from('sessions').select('id')).map((row) => row.id),
      ['live']
    )
    t.deepEqual(
      (await db.from('rate_limits').select('key').orderBy('key')).map((row) => row.key),
      ['current', 'forever']
    )
    const left = (await db.from('jobs').select('public_id')).map((row) => row.public_id).toSorted()
    t.deepEqual(left, [recentSucceeded, recentDead, pending].toSorted())
    t.false(left.includes(oldSucceeded) || left.includes(oldDead))
    t.is((await db.from('schedule_runs').select('id')).length, 1)
  }
)

test.serial('reports the queue depth by status and the wait of the oldest due job', async (t) => {
  const { enqueue, jobGauges } = await import('#appliance/services/jobs')
  const file = recordsFile()
  const now = new Date()
  await enqueue('test.record', { key: 'a', file }, { runAt: new Date(now.getTime() - 90_000) })
  await enqueue('test.record', { key: 'b', file })
  await enqueue('test.record', { key: 'later', file }, { delayMs: 3_600_000 })
  const gauges = await jobGauges(now)
  const depth = gauges.find((gauge) => gauge.name === 'quad_jobs')!
  t.deepEqual(
    depth.samples.map((sample) => [sample.labels!.status, sample.value]),
    [
      ['pending', 3],
      ['running', 0],
      ['succeeded', 0],
      ['failed', 0],
      ['dead', 0],
    ]
  )
  const age = gauges.find((gauge) => gauge.name === 'quad_jobs_oldest_pending_age_seconds')!
  t.is(age.samples[0].value, 90)
})

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
