import test from 'ava'
import { join } from 'node:path'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'

let quad: TestApp
let operator: GivenAdmin
let auditor: GivenAdmin
let superAdmin: GivenAdmin
const ids = { dead: '', succeeded: '', pending: '' }

test.before(async () => {
  quad = await bootTestApp()
  await import('#tests/appliance/worker_test_jobs')
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  await givenSchool()
  operator = await givenAdmin('operator')
  auditor = await givenAdmin('auditor')
  superAdmin = await givenAdmin('super_admin')
})

test.after.always(async () => {
  await quad?.close()
})

/** A dead job (with a secret in its payload), a succeeded one and a pending one. */
test.beforeEach(async () => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { enqueue, runDueJobs } = await import('#appliance/services/jobs')
  await db.from('jobs').delete()
  const file = join(quad.storage, 'console-records.log')
  ids.dead = await enqueue('test.fail', { secret: 'hunter2-s3cret' }, { maxAttempts: 1 })
  ids.succeeded = await enqueue('test.record', { key: 'done', file })
  await runDueJobs({ workerId: 'console-test-worker' })
  ids.pending = await enqueue('test.record', { key: 'later', file }, { delayMs: 3_600_000 })
})

async function signedIn(admin: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  return client
}

async function statusOf(publicId: string) {
  const { findJob } = await import('#appliance/services/jobs')
  return (await findJob(publicId))?.status
}

/** Public ids of the job rows on a list page, in order. */
function listedJobs(html: string): string[] {
  return [...html.matchAll(/<tr data-job="([0-9A-Z]{26})"/g)].map((match) => match[1])
}

test.serial('an operator sees the queue counts and finds jobs by status and name', async (t) => {
  const client = await signedIn(operator)
  const console = await client.get('/console')
  t.regex(console.text, /href="\/console\/jobs"/, 'the navigation offers the jobs page')

  const page = await client.get('/console/jobs')
  t.is(page.status, 200)
  t.regex(page.text, /<h1>后台任务<\/h1>/)
  t.regex(page.text, /data-count="dead">1</)
  t.regex(page.text, /data-count="succeeded">1</)
  t.regex(page.text, /data-count="pending">1</)
  t.deepEqual(listedJobs(page.text), [ids.pending, ids.succeeded, ids.dead])

  t.deepEqual(listedJobs((await client.get('/console/jobs?status=dead')).text), [ids.dead])
  t.deepEqual(listedJobs((await client.get('/console/jobs?q=RECORD&status=')).text), [
    ids.pending,
    ids.succeeded,
  ])
  t.deepEqual(listedJobs((await client.get(`/console/jobs?q=${ids.succeeded}`)).text), [
    ids.succeeded,
  ])
  const none = await client.get('/console/jobs?q=%25')
  t.deepEqual(listedJobs(none.text), [], 'a % in the search is a literal, not a wildcard')
  t.regex(none.text, /data-testid="empty-state"/)
  // A filter that does not validate shows the whole list rather than an error.
  t.is(listedJobs((await client.get('/console/jobs?status=bogus&page=-3')).text).length, 3)

  await client.get('/lang/en?back=/console/jobs')
  const english = await client.get('/console/jobs')
  t.regex(english.text, /<h1>Background jobs<\/h1>/)
  t.regex(english.text, />Dead</)
})

test.serial(
  'the job page shows its payload with secrets hidden, attempts and last error',
  async (t) => {
    const client = await signedIn(operator)
    const page = await client.get(`/console/jobs/${ids.dead}`)
    t.is(page.status, 200)
    t.regex(page.text, /test\.fail/)
    t.regex(page.text, /已放弃/)
    t.regex(page.text, /1 \/ 1/)
    t.regex(
      page.text,
      /data-testid="job-error"><code>Error: cannot reach postgres:\/\/\[redacted\]@/
    )
    t.regex(page.text, /&quot;secret&quot;: &quot;\[redacted\]&quot;/)
    t.false(page.text.includes('hunter2'), 'the secret shows nowhere on the page')
    t.regex(page.text, /data-testid="rerun-form"/)
    t.regex(page.text, /data-confirm="确定立即重新执行任务 test\.fail 吗/, 'the re-run asks first')

    const done = await client.get(`/console/jobs/${ids.succeeded.toLowerCase()}`)
    t.is(done.status, 200, 'ids are read case-insensitively')
    t.notRegex(done.text, /data-testid="rerun-form"/, 'a succeeded job offers no re-run')
    t.regex(done.text, /该任务没有失败过/)
  }
)

test.serial('an operator re-runs a dead job, and the re-run is audited', async (t) => {
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  const client = await signedIn(operator)
  await client.get(`/console/jobs/${ids.dead}`)
  const response = await client.post(`/console/jobs/${ids.dead}/rerun`, {})
  t.is(response.status, 302)
  t.is(response.location, `/console/jobs/${ids.dead}`)
  const page = await client.follow(response)
  t.regex(page.text, /data-flash="notice">\s*任务已重新排队/)
  t.is(await statusOf(ids.dead), 'pending')
  const entry = await AuditEntry.query()
    .where('action', 'jobs.rerun')
    .where('subject_id', ids.dead)
    .firstOrFail()
  t.is(entry.actorId, operator.user.publicId)
  t.is(entry.outcome, 'success')
  t.notRegex(page.text, /data-testid="rerun-form"/, 'a pending job offers no re-run')

  // Posting again (a double click, an old tab) changes nothing and says why.
  const again = await client.follow(await client.post(`/console/jobs/${ids.dead}/rerun`, {}))
  t.regex(again.text, /data-flash="error">\s*该任务已不能重新执行/)
  t.is(
    await AuditEntry.query()
      .where('action', 'jobs.rerun')
      .where('subject_id', ids.dead)
      .count('* as n')
      .first()
      .then((row) => Number(row!.$extras.n)),
    1
  )
})

test.serial('a super admin may re-run jobs too', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get(`/console/jobs/${ids.dead}`)
  await client.post(`/console/jobs/${ids.dead}/rerun`, {})
  t.is(await statusOf(ids.dead), 'pending')
})

test.serial('a re-run without a CSRF token changes nothing', async (t) => {
  const client = await signedIn(operator)
  await client.get(`/console/jobs/${ids.dead}`)
  const response = await client.post(`/console/jobs/${ids.dead}/rerun`, { _csrf: null })
  t.is(response.status, 403)
  t.is(await statusOf(ids.dead), 'dead')
})

test.serial('an auditor may neither see nor re-run jobs', async (t) => {
  const client = await signedIn(auditor)
  const console = await client.get('/console')
  t.notRegex(console.text, /href="\/console\/jobs"/, 'no jobs entry in the navigation')
  t.is((await client.get('/console/jobs')).status, 403)
  t.is((await client.get(`/console/jobs/${ids.dead}`)).status, 403)
  await client.get('/console')
  const response = await client.post(`/console/jobs/${ids.dead}/rerun`, {})
  t.is(response.status, 403)
  t.is(await statusOf(ids.dead), 'dead')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const refusal = await db.from('audit_entries').orderBy('seq', 'desc').first()
  t.is(refusal.action, 'security.forbidden', 'the refusal is recorded')
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  t.is(
    await AuditEntry.query().where('action', 'jobs.rerun').where('subject_id', ids.dead).first(),
    null
  )
})

test.serial('jobs pages need a signed-in account', async (t) => {
  const client = new TestClient(quad.baseUrl)
  const response = await client.get('/console/jobs')
  t.is(response.status, 302)
  t.is(response.location, '/login')
})

test.serial('unknown and malformed job ids answer 404', async (t) => {
  const client = await signedIn(operator)
  t.is((await client.get('/console/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status, 404)
  t.is((await client.get('/console/jobs/not-a-job')).status, 404)
  await client.get('/console/jobs')
  t.is((await client.post('/console/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/rerun', {})).status, 404)
})

test.serial('/metrics reports the queue depth by status', async (t) => {
  const client = new TestClient(quad.baseUrl)
  const metrics = await client.get('/metrics')
  t.is(metrics.status, 200)
  t.regex(metrics.text, /^# TYPE quad_jobs gauge$/m)
  t.regex(metrics.text, /^quad_jobs\{status="dead"\} 1$/m)
  t.regex(metrics.text, /^quad_jobs\{status="succeeded"\} 1$/m)
  t.regex(metrics.text, /^quad_jobs\{status="running"\} 0$/m)
  t.regex(metrics.text, /^quad_jobs_oldest_pending_age_seconds 0$/m)
})
