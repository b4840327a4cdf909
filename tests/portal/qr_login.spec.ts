import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

const DESKTOP_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15'

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_PORTAL_LOGIN_RATE_LIMIT: '1000' } })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

const fixtures = () => import('./fixtures.js')

/** A desktop browser on the sign-in page that has asked for a QR code. */
async function desktopWithCode() {
  const desktop = new TestClient(quad.baseUrl)
  await desktop.get('/portal/login', { 'user-agent': DESKTOP_AGENT })
  const response = await desktop.post('/portal/login/qr', {}, { 'user-agent': DESKTOP_AGENT })
  const answer = response.json<{ status: string; svg: string; url: string; expiresIn: number }>()
  const path = new URL(answer.url).pathname
  return { desktop, answer, path, response }
}

async function poll(client: TestClient) {
  const response = await client.post('/portal/login/qr/status', {})
  return response.json<{ status: string; redirect?: string }>()
}

async function signedInPhone() {
  const { givenPerson, portalSignIn } = await fixtures()
  const given = await givenPerson({ name: '陈思远' })
  const phone = new TestClient(quad.baseUrl)
  await portalSignIn(phone, given)
  return { given, phone }
}

test.serial('a phone approves and the desktop signs in once, as that person', async (t) => {
  const { auditOf, sessionsOf } = await fixtures()
  const { desktop, answer, path, response } = await desktopWithCode()
  t.is(answer.status, 'pending')
  t.is(answer.expiresIn, 120)
  t.regex(answer.svg, /^<svg[^>]+viewBox/)
  t.regex(path, /^\/portal\/qr\/[\w-]{43}$/)
  const binding = response.headers
    .getSetCookie()
    .find((line) => line.startsWith('quad_portal_qr='))!
  t.regex(binding, /HttpOnly/i)
  t.regex(binding, /SameSite=Strict/i)
  t.is((await poll(desktop)).status, 'pending')

  const { given, phone } = await signedInPhone()
  const review = await phone.get(path)
  t.is(review.status, 200)
  t.regex(review.text, /在电脑上登录？/)
  t.regex(review.text, /data-testid="qr-desktop">Safari · macOS</)
  t.regex(review.text, /data-testid="qr-desktop-ip">127\.0\.0\.1</)
  t.is((await poll(desktop)).status, 'scanned')
  t.is((await desktop.get('/portal')).location, '/portal/login', 'nothing before approval')

  const approved = await phone.post(`${path}/approve`, {})
  t.regex(approved.text, /data-outcome="approved"/)

  const signedIn = await poll(desktop)
  t.deepEqual(signedIn, { status: 'signed_in', redirect: '/portal' })
  const home = await desktop.get('/portal')
  t.is(home.status, 200)
  t.regex(home.text, /陈思远/)
  t.is((await poll(desktop)).status, 'unknown', 'the challenge is spent')

  const [desktopSession] = await sessionsOf(given.person)
  t.is(desktopSession.method, 'qr')
  t.is(desktopSession.deviceLabel, 'Browser', 'this poll sent no user agent')
  const actions = (await auditOf(given.person.publicId)).map((entry) => entry.action)
  t.deepEqual(actions.slice(-2), ['portal.qr_login_approved', 'portal.sign_in'])

  // The phone cannot approve the same code again.
  const again = await phone.get(path)
  t.regex(again.text, /data-outcome="invalid"/)
})

test.serial('a challenge cannot be redeemed from another browser', async (t) => {
  const { desktop, path } = await desktopWithCode()
  const { phone } = await signedInPhone()
  await phone.get(path)
  await phone.post(`${path}/approve`, {})

  // The thief saw the QR code (its token) and knows the challenge id, not the desktop's cookie.
  const { default: PortalQrChallenge } = await import('#identity/models/portal_qr_challenge')
  const challenge = await PortalQrChallenge.query().orderBy('id', 'desc').firstOrFail()
  const token = path.split('/').pop()!
  const thief = new TestClient(quad.baseUrl)
  await thief.get('/portal/login')
  t.is((await poll(thief)).status, 'unknown', 'no cookie')
  thief.setCookie('quad_portal_qr', `${challenge.publicId}.${token}`)
  t.is((await poll(thief)).status, 'unknown', 'a guessed cookie')
  t.is((await thief.get('/portal')).location, '/portal/login')

  t.is((await poll(desktop)).status, 'signed_in', 'the real desktop still can')
})

test.serial('an expired challenge can be neither approved nor redeemed', async (t) => {
  const { default: PortalQrChallenge } = await import('#identity/models/portal_qr_challenge')
  const { desktop, path } = await desktopWithCode()
  const challenge = await PortalQrChallenge.query().orderBy('id', 'desc').firstOrFail()
  challenge.expiresAt = DateTime.utc().minus({ seconds: 1 })
  await challenge.save()
  const { phone } = await signedInPhone()
  const review = await phone.get(path)
  t.regex(review.text, /data-outcome="invalid"/)
  const approve = await phone.post(`${path}/approve`, {})
  t.regex(approve.text, /data-outcome="invalid"/)
  t.is((await poll(desktop)).status, 'expired')
  await challenge.refresh()
  t.is(challenge.status, 'pending')
})

test.serial('a rejected sign-in stays rejected', async (t) => {
  const { auditOf } = await fixtures()
  const { desktop, path } = await desktopWithCode()
  const { given, phone } = await signedInPhone()
  await phone.get(path)
  const rejected = await phone.post(`${path}/reject`, {})
  t.regex(rejected.text, /data-outcome="rejected"/)
  t.is((await poll(desktop)).status, 'rejected')
  t.is((await desktop.get('/portal')).location, '/portal/login')
  // A second decision is refused: the approval cannot follow the rejection.
  const approve = await phone.post(`${path}/approve`, {})
  t.regex(approve.text, /data-outcome="invalid"/)
  t.is((await poll(desktop)).status, 'rejected')
  const actions = (await auditOf(given.person.publicId)).map((entry) => entry.action)
  t.true(actions.includes('portal.qr_login_rejected'))
  t.false(actions.includes('portal.qr_login_approved'))
})

test.serial(
  'a phone that is not signed in signs in first and comes back to the code',
  async (t) => {
    const { givenPerson, postSignIn } = await fixtures()
    const { desktop, path } = await desktopWithCode()
    const given = await givenPerson()
    const phone = new TestClient(quad.baseUrl)
    const bounce = await phone.get(path)
    t.is(bounce.location, `/portal/login?next=${encodeURIComponent(path)}`)
    const signedIn = await postSignIn(phone, given.personNo, given.password, { next: path })
    t.is(signedIn.location, path)
    await phone.get(path)
    await phone.post(`${path}/approve`, {})
    t.is((await poll(desktop)).status, 'signed_in')
  }
)

test.serial('the desktop approval needs the phone form token (CSRF)', async (t) => {
  const { path } = await desktopWithCode()
  const { phone } = await signedInPhone()
  await phone.get(path)
  const forged = await phone.post(`${path}/approve`, { _csrf: null })
  t.is(forged.status, 403)
  const { default: PortalQrChallenge } = await import('#identity/models/portal_qr_challenge')
  const challenge = await PortalQrChallenge.query().orderBy('id', 'desc').firstOrFail()
  t.is(challenge.status, 'scanned')
})
