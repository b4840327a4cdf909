import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({
    env: {
      QUAD_PORTAL_LOGIN_RATE_LIMIT: '1000',
      QUAD_SMTP_URL: 'smtp://mail.scmu.edu.cn:587',
      QUAD_MAIL_FROM: 'portal@scmu.edu.cn',
      APP_URL: 'https://quad.scmu.edu.cn',
    },
  })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

const fixtures = () => import('./fixtures.js')

async function outbox() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db.from('mail_outbox').orderBy('id')
}

async function requestReset(client: TestClient, personNo: string) {
  const form = await client.get('/portal/password/forgot')
  if (form.status !== 200) throw new Error(`forgot page: ${form.status}`)
  return client.post('/portal/password/forgot', { personNo })
}

/** The link in the newest message, read from the outbox as the mail transport would. */
async function newestLink() {
  const { default: encryption } = await import('@adonisjs/core/services/encryption')
  const rows = await outbox()
  const body = encryption.decrypt<string>(rows.at(-1).body_ciphertext)!
  const link = /https:\/\/quad\.scmu\.edu\.cn(\/portal\/password\/reset\/[\w-]{43})/.exec(body)
  return { body, path: link![1], row: rows.at(-1) }
}

test.serial('a mailed link resets the password once, and signs out everywhere', async (t) => {
  const { givenPerson, portalSignIn, flashOf, auditOf } = await fixtures()
  const given = await givenPerson({ email: 'zhou.min@scmu.edu.cn', name: '周敏' })
  const session = new TestClient(quad.baseUrl)
  await portalSignIn(session, given)

  const client = new TestClient(quad.baseUrl)
  t.regex((await client.get('/portal/login')).text, /data-testid="forgot-link"/)
  const sent = await requestReset(client, given.personNo)
  t.is(sent.location, '/portal/login')
  const notice = flashOf((await client.follow(sent)).text, 'notice')
  t.regex(notice ?? '', /如果该学工号登记了电子邮箱/)

  const { body, path, row } = await newestLink()
  t.is(row.to_address, 'zhou.min@scmu.edu.cn')
  t.is(row.status, 'pending')
  t.regex(body, /周敏/)
  t.regex(body, /30 分钟/)
  // Only digests are stored: the token is in no column in clear.
  const token = path.split('/').pop()!
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const stored = JSON.stringify([
    await db.from('portal_password_resets'),
    await db.from('mail_outbox'),
    await db.from('jobs'),
  ])
  t.false(stored.includes(token))

  const form = await client.get(path)
  t.is(form.status, 200)
  t.is(form.headers.get('referrer-policy'), 'no-referrer')
  t.regex(form.text, /data-valid="yes"/)
  const weak = await client.post(path, { newPassword: 'short1', passwordConfirmation: 'short1' })
  t.is(weak.location, path)
  t.regex((await client.follow(weak)).text, /密码至少需要 8 位/)
  const done = await client.post(path, {
    newPassword: 'Winter2026snow',
    passwordConfirmation: 'Winter2026snow',
  })
  t.is(done.location, '/portal/login')

  t.is((await session.get('/portal')).location, '/portal/login', 'the old session ended')
  await portalSignIn(new TestClient(quad.baseUrl), { ...given, password: 'Winter2026snow' })

  // The link is spent.
  const again = await client.get(path)
  t.regex(again.text, /data-valid="no"/)
  const reuse = await client.post(path, {
    newPassword: 'Another2026pass',
    passwordConfirmation: 'Another2026pass',
  })
  t.regex(reuse.text, /data-valid="no"/)
  await portalSignIn(new TestClient(quad.baseUrl), { ...given, password: 'Winter2026snow' })

  const actions = (await auditOf(given.person.publicId)).map((entry) => entry.action)
  t.true(actions.includes('portal.password_reset_requested'))
  t.true(actions.includes('portal.password_changed'))
})

test.serial('a link older than 30 minutes no longer works', async (t) => {
  const { givenPerson } = await fixtures()
  const { default: PortalPasswordReset } = await import('#identity/models/portal_password_reset')
  const given = await givenPerson({ email: 'old.link@scmu.edu.cn' })
  const client = new TestClient(quad.baseUrl)
  await requestReset(client, given.personNo)
  const { path } = await newestLink()
  const reset = await PortalPasswordReset.query()
    .where('person_id', given.person.id)
    .orderBy('id', 'desc')
    .firstOrFail()
  t.true(Math.abs(reset.expiresAt.diff(reset.createdAt).as('minutes') - 30) < 0.1)
  reset.expiresAt = DateTime.utc().minus({ seconds: 1 })
  await reset.save()
  t.regex((await client.get(path)).text, /data-valid="no"/)
  const post = await client.post(path, {
    newPassword: 'Late2026answer',
    passwordConfirmation: 'Late2026answer',
  })
  t.regex(post.text, /data-valid="no"/)
})

test.serial('only the newest link works', async (t) => {
  const { givenPerson } = await fixtures()
  const given = await givenPerson({ email: 'twice@scmu.edu.cn' })
  const client = new TestClient(quad.baseUrl)
  await requestReset(client, given.personNo)
  const first = await newestLink()
  await requestReset(client, given.personNo)
  const second = await newestLink()
  t.not(first.path, second.path)
  t.regex((await client.get(first.path)).text, /data-valid="no"/)
  t.regex((await client.get(second.path)).text, /data-valid="yes"/)
})

test.serial(
  'unknown numbers and people without an address get the same answer and no mail',
  async (t) => {
    const { givenPerson, flashOf } = await fixtures()
    const before = (await outbox()).length
    const noEmail = await givenPerson()
    const noPassword = await givenPerson({ email: 'nopass@scmu.edu.cn', portalPassword: null })
    const answers = []
    for (const personNo of ['NOBODY42', noEmail.personNo, noPassword.personNo]) {
      const client = new TestClient(quad.baseUrl)
      answers.push(
        flashOf((await client.follow(await requestReset(client, personNo))).text, 'notice')
      )
    }
    t.is(new Set(answers).size, 1)
    t.is((await outbox()).length, before)
  }
)

test.serial(
  'the send job says that sending needs a mail transport, then sends once one is installed',
  async (t) => {
    const { runDueJobs, findJob } = await import('#appliance/services/jobs')
    const { deliverQueuedMail, useMailTransport } = await import('#identity/services/portal_mail')
    const { givenPerson } = await fixtures()
    const given = await givenPerson({ email: 'deliver@scmu.edu.cn' })
    await requestReset(new TestClient(quad.baseUrl), given.personNo)
    const { row } = await newestLink()

    const outcomes = await runDueJobs({ workerId: 'test-worker', limit: 50 })
    const mine = outcomes.filter((outcome) => outcome.name === 'portal.send_mail')
    t.true(mine.length > 0)
    t.true(mine.every((outcome) => outcome.outcome === 'failed'))
    const job = await findJob(mine.at(-1)!.publicId)
    t.regex(job?.lastError ?? '', /@adonisjs\/mail/)

    const delivered: { to: string; subject: string; text: string }[] = []
    useMailTransport(async (mail) => {
      delivered.push(mail)
    })
    try {
      t.is(await deliverQueuedMail(row.public_id), 'sent')
      t.is(await deliverQueuedMail(row.public_id), 'skipped', 'never twice')
    } finally {
      useMailTransport(null)
    }
    t.is(delivered.length, 1)
    t.is(delivered[0].to, 'deliver@scmu.edu.cn')
    t.regex(delivered[0].subject, /重设校园门户密码/)
    const sent = (await outbox()).find((each) => each.public_id === row.public_id)
    t.is(sent.status, 'sent')
    t.is(sent.body_ciphertext, null)
  }
)

test.serial(
  'the hourly prune discards mail whose link expired and deletes old challenges',
  async (t) => {
    const { prunePortalRows } = await import('#identity/services/portal_maintenance')
    const { givenPerson } = await fixtures()
    const given = await givenPerson({ email: 'prune@scmu.edu.cn' })
    await requestReset(new TestClient(quad.baseUrl), given.personNo)
    const { row } = await newestLink()
    const { StartQrLogin } = await import('#identity/actions/portal_start_qr_login')
    const { challenge } = await new StartQrLogin().handle({ ip: '10.0.0.8' })
    const result = await prunePortalRows(DateTime.utc().plus({ hours: 2 }))
    t.true(result.mailDiscarded >= 1)
    t.true(result.challenges >= 1)
    const { default: PortalQrChallenge } = await import('#identity/models/portal_qr_challenge')
    t.is(await PortalQrChallenge.find(challenge.id), null)
    const discarded = (await outbox()).find((each) => each.public_id === row.public_id)
    t.is(discarded.status, 'discarded')
    t.is(discarded.body_ciphertext, null)
  }
)
