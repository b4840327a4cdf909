import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_PORTAL_LOGIN_RATE_LIMIT: '1000' } })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

const fixtures = () => import('./fixtures.js')

async function signedIn(extra: Record<string, string> = {}) {
  const { givenPerson, portalSignIn } = await fixtures()
  const given = await givenPerson()
  const client = new TestClient(quad.baseUrl)
  const response = await portalSignIn(client, given, extra)
  return { given, client, response }
}

test.serial(
  'the session cookie is opaque, HttpOnly and SameSite=Lax; the database keeps a digest',
  async (t) => {
    const { sessionsOf } = await fixtures()
    const { createHash } = await import('node:crypto')
    const { given, client, response } = await signedIn()
    const line = response.headers
      .getSetCookie()
      .find((cookie) => cookie.startsWith('quad_portal='))!
    t.regex(line, /HttpOnly/i)
    t.regex(line, /SameSite=Lax/i)
    t.regex(line, /Path=\//)
    t.notRegex(line, /Max-Age/i, 'a browser-session cookie unless remembered')
    const secret = client.cookie('quad_portal')!
    t.regex(secret, /^[\w-]{43}$/)
    const [session] = await sessionsOf(given.person)
    t.is(session.tokenHash, createHash('sha256').update(secret).digest('hex'))
    const { default: db } = await import('@adonisjs/lucid/services/db')
    t.notRegex(JSON.stringify(await db.from('portal_sessions')), new RegExp(secret))
    t.is(session.idleTimeoutSeconds, 30 * 60)
    const lifetime = session.expiresAt.diff(session.createdAt).as('hours')
    t.true(Math.abs(lifetime - 12) < 0.01, `lifetime ${lifetime} h`)
  }
)

test.serial(
  '"remember this device" keeps the cookie for 30 days with a longer idle timeout',
  async (t) => {
    const { sessionsOf } = await fixtures()
    const { given, response } = await signedIn({ remember: '1' })
    const line = response.headers
      .getSetCookie()
      .find((cookie) => cookie.startsWith('quad_portal='))!
    t.regex(line, /Max-Age=2592000/)
    const [session] = await sessionsOf(given.person)
    t.true(session.remembered)
    t.is(session.idleTimeoutSeconds, 7 * 24 * 3600)
    t.true(Math.abs(session.expiresAt.diff(session.createdAt).as('days') - 30) < 0.01)
  }
)

test.serial('ends a session idle for longer than the idle timeout', async (t) => {
  const { sessionsOf, flashOf } = await fixtures()
  const { given, client } = await signedIn()
  const [session] = await sessionsOf(given.person)

  // Activity within the timeout keeps it, and moves last-seen on.
  session.lastSeenAt = DateTime.utc().minus({ minutes: 29 })
  await session.save()
  t.is((await client.get('/portal')).status, 200)
  await session.refresh()
  t.true(DateTime.utc().diff(session.lastSeenAt).as('seconds') < 5)

  session.lastSeenAt = DateTime.utc().minus({ minutes: 31 })
  await session.save()
  const expired = await client.get('/portal/me')
  t.is(expired.location, '/portal/login?next=%2Fportal%2Fme')
  t.is(
    flashOf((await client.follow(expired)).text, 'notice'),
    '长时间未操作，已自动退出，请重新登录。'
  )
  await session.refresh()
  t.is(session.endReason, 'idle')
  t.not(session.endedAt, null)
  t.is((await client.get('/portal')).location, '/portal/login')
})

test.serial('ends a session at its absolute expiry however active it is', async (t) => {
  const { sessionsOf, flashOf } = await fixtures()
  const { given, client } = await signedIn()
  const [session] = await sessionsOf(given.person)
  session.expiresAt = DateTime.utc().minus({ seconds: 1 })
  await session.save()
  const expired = await client.get('/portal')
  t.is(expired.location, '/portal/login')
  t.is(flashOf((await client.follow(expired)).text, 'notice'), '登录已到期，请重新登录。')
  await session.refresh()
  t.is(session.endReason, 'expired')
})

test.serial('refreshes last-seen at most once a minute', async (t) => {
  const { sessionsOf } = await fixtures()
  const { given, client } = await signedIn()
  const [session] = await sessionsOf(given.person)
  const seen = DateTime.utc().minus({ seconds: 30 }).set({ millisecond: 0 })
  session.lastSeenAt = seen
  await session.save()
  await client.get('/portal')
  await session.refresh()
  t.is(session.lastSeenAt.toUnixInteger(), seen.toUnixInteger())
})

test.serial(
  'the devices page lists every session and signs another one out remotely',
  async (t) => {
    const { givenPerson, portalSignIn, sessionsOf, auditOf, flashOf } = await fixtures()
    const given = await givenPerson()
    const phone = new TestClient(quad.baseUrl)
    const laptop = new TestClient(quad.baseUrl)
    await portalSignIn(phone, given)
    await laptop.get('/portal/login', {
      'user-agent':
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
    })
    await laptop.request('POST', '/portal/login', {
      body: new URLSearchParams({
        personNo: given.personNo,
        password: given.password,
        _csrf: laptop.csrfToken!,
      }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent':
          'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
      },
    })
    const [laptopSession, phoneSession] = await sessionsOf(given.person)
    t.is(laptopSession.deviceLabel, 'Chrome · Windows')

    const page = await phone.get('/portal/me/devices')
    t.is(page.status, 200)
    const listed = [...page.text.matchAll(/data-session="([0-9A-Z]{26})"/g)].map(
      (match) => match[1]
    )
    t.deepEqual(listed.sort(), [laptopSession.publicId, phoneSession.publicId].sort())
    t.regex(page.text, new RegExp(`data-session="${phoneSession.publicId}" data-current`))
    t.regex(page.text, /Chrome · Windows/)

    t.is((await laptop.get('/portal')).status, 200)
    const out = await phone.post(`/portal/me/devices/${laptopSession.publicId}/sign-out`, {})
    t.is(out.location, '/portal/me/devices')
    t.is(flashOf((await phone.follow(out)).text, 'notice'), '该设备已退出登录。')
    const next = await laptop.get('/portal')
    t.is(next.location, '/portal/login')
    t.is(
      flashOf((await laptop.follow(next)).text, 'notice'),
      '您已在其他设备上被退出登录，请重新登录。'
    )
    t.is((await phone.get('/portal')).status, 200, 'the phone stays signed in')

    const revoked = (await auditOf(given.person.publicId)).filter(
      (entry) => entry.action === 'portal.session_revoked'
    )
    t.is(revoked.length, 1)
    t.is(revoked[0].actorType, 'person')
    t.is(revoked[0].meta.session, laptopSession.publicId)
  }
)

test.serial('a person cannot sign out a session that is not theirs', async (t) => {
  const { givenPerson, portalSignIn, sessionsOf } = await fixtures()
  const victim = await givenPerson()
  const other = await givenPerson()
  const victimClient = new TestClient(quad.baseUrl)
  await portalSignIn(victimClient, victim)
  const [victimSession] = await sessionsOf(victim.person)
  const attacker = new TestClient(quad.baseUrl)
  await portalSignIn(attacker, other)
  await attacker.get('/portal/me/devices')
  await attacker.post(`/portal/me/devices/${victimSession.publicId}/sign-out`, {})
  t.is((await victimClient.get('/portal')).status, 200)
})

test.serial(
  '"sign out all others" keeps only this device; changing the password does too',
  async (t) => {
    const { givenPerson, portalSignIn, flashOf } = await fixtures()
    const given = await givenPerson()
    const [a, b, c] = [1, 2, 3].map(() => new TestClient(quad.baseUrl))
    for (const client of [a, b, c]) await portalSignIn(client, given)
    await a.get('/portal/me/devices')
    const out = await a.post('/portal/me/devices/others/sign-out', {})
    t.regex(flashOf((await a.follow(out)).text, 'notice') ?? '', /已退出其他 2 台设备/)
    t.is((await b.get('/portal')).location, '/portal/login')
    t.is((await c.get('/portal')).location, '/portal/login')
    t.is((await a.get('/portal')).status, 200)

    await portalSignIn(b, given)
    await a.get('/portal/me/security')
    const wrong = await a.post('/portal/me/password', {
      currentPassword: 'Wrong2026pass',
      newPassword: 'Autumn2026leaves',
      passwordConfirmation: 'Autumn2026leaves',
    })
    t.regex((await a.follow(wrong)).text, /当前密码不正确/)
    t.is((await b.get('/portal')).status, 200, 'a refused change ends nothing')
    await a.get('/portal/me/security')
    const changed = await a.post('/portal/me/password', {
      currentPassword: given.password,
      newPassword: 'Autumn2026leaves',
      passwordConfirmation: 'Autumn2026leaves',
    })
    t.regex(flashOf((await a.follow(changed)).text, 'notice') ?? '', /其他 1 台设备已退出登录/)
    t.is((await b.get('/portal')).location, '/portal/login')
    t.is((await a.get('/portal')).status, 200)
  }
)

test.serial('signing out ends the session on the server and clears the cookie', async (t) => {
  const { sessionsOf, auditOf } = await fixtures()
  const { given, client } = await signedIn()
  const secret = client.cookie('quad_portal')!
  await client.get('/portal/me')
  const out = await client.post('/portal/logout', {})
  t.is(out.location, '/portal/login')
  t.is(client.cookie('quad_portal'), undefined)
  const [session] = await sessionsOf(given.person)
  t.is(session.endReason, 'signed_out')
  // The old cookie, replayed, opens nothing.
  client.setCookie('quad_portal', secret)
  t.is((await client.get('/portal')).location, '/portal/login')
  t.true((await auditOf(given.person.publicId)).some((entry) => entry.action === 'portal.sign_out'))
})

test.serial(
  'a page asked for before sign-in is where sign-in returns to, never another site',
  async (t) => {
    const { givenPerson, postSignIn } = await fixtures()
    const given = await givenPerson()
    const client = new TestClient(quad.baseUrl)
    const bounce = await client.get('/portal/me/devices')
    t.is(bounce.location, '/portal/login?next=%2Fportal%2Fme%2Fdevices')
    const page = await client.get(bounce.location!)
    t.regex(page.text, /name="next" value="\/portal\/me\/devices"/)
    const back = await postSignIn(client, given.personNo, given.password, {
      next: '/portal/me/devices',
    })
    t.is(back.location, '/portal/me/devices')
    const other = new TestClient(quad.baseUrl)
    const evil = await postSignIn(other, given.personNo, given.password, {
      next: '//evil.example/x',
    })
    t.is(evil.location, '/portal')
  }
)

test.serial('an admin signs a person out of every device from the console', async (t) => {
  const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  const { auditOf } = await fixtures()
  const { given, client } = await signedIn()
  const admin = await givenAdmin('super_admin')
  const console = new TestClient(quad.baseUrl)
  await signIn(console, admin)
  await console.get(`/console/people/${given.person.publicId}/portal-account`)
  await console.post(`/console/people/${given.person.publicId}/portal-account/sign-out`, {})
  t.is((await client.get('/portal')).location, '/portal/login')
  const entry = (await auditOf(given.person.publicId)).find(
    (each) => each.action === 'portal.session_revoked'
  )
  t.is(entry?.actorType, 'user')
  t.is(entry?.meta.scope, 'all')
})

test.serial('"Me" shows the phone and ID numbers masked, never in full', async (t) => {
  const { encryptPii, maskIdNumber, maskPhone } = await import('#identity/services/pii')
  const { given, client } = await signedIn()
  const phone = '13912345678'
  const idNumber = '440106200002291238'
  given.person.merge({
    phoneCiphertext: encryptPii('phone', phone),
    phoneMasked: maskPhone(phone),
    idDocType: 'resident_id',
    idDocCiphertext: encryptPii('id_doc_number', idNumber),
    idDocMasked: maskIdNumber(idNumber),
    email: 'wang.xm@scmu.edu.cn',
  })
  await given.person.save()
  const page = await client.get('/portal/me')
  t.is(page.status, 200)
  t.regex(page.text, /139\*\*\*\*5678/)
  t.regex(page.text, /4401\*{10}1238/)
  t.regex(page.text, /w\*{6}@scmu\.edu\.cn/)
  t.false(page.text.includes(phone))
  t.false(page.text.includes(idNumber))
  t.false(page.text.includes('wang.xm@'))
})
