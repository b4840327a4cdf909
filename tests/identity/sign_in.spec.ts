import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

async function fixtures() {
  return import('#tests/helpers/fixtures')
}

async function auditActions(subjectId?: string) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const query = db.from('audit_entries').orderBy('seq')
  if (subjectId) query.where('subject_id', subjectId)
  return (await query).map((row) => String(row.action))
}

async function passwordStep(client: TestClient, username: string, password: string) {
  await client.get('/login')
  return client.post('/login', { username, password })
}

test.serial('signs in with password and TOTP and shows the console', async (t) => {
  const { givenAdmin, signIn } = await fixtures()
  const admin = await givenAdmin('super_admin', { displayName: '李建国' })
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  const page = await client.get('/console')
  t.is(page.status, 200)
  t.regex(page.text, /李建国/)
  t.regex(page.text, /华南示范大学/)
  t.deepEqual((await auditActions(admin.user.publicId)).slice(-1), ['auth.login'])
})

test.serial('answers the same for an unknown name and a wrong password', async (t) => {
  const { givenAdmin } = await fixtures()
  const admin = await givenAdmin()
  const wrongPassword = new TestClient(quad.baseUrl)
  const unknownName = new TestClient(quad.baseUrl)
  const first = await wrongPassword.follow(
    await passwordStep(wrongPassword, admin.username, 'Wrong-password-99')
  )
  const second = await unknownName.follow(
    await passwordStep(unknownName, 'nobody-here', 'Wrong-password-99')
  )
  const message = (html: string) => /data-flash="error">\s*([^<]+?)\s*</.exec(html)?.[1]
  t.is(message(first.text), '用户名或密码不正确。')
  t.is(message(second.text), message(first.text))
})

test.serial('keeps the username but never echoes the password after a failure', async (t) => {
  const { givenAdmin } = await fixtures()
  const admin = await givenAdmin()
  const client = new TestClient(quad.baseUrl)
  const page = await client.follow(
    await passwordStep(client, admin.username, 'Secret-never-shown-1')
  )
  t.regex(page.text, new RegExp(`value="${admin.username}"`))
  t.notRegex(page.text, /Secret-never-shown-1/)
})

test.serial('locks an account after five failures, even for the right password', async (t) => {
  const { givenAdmin } = await fixtures()
  const admin = await givenAdmin()
  const client = new TestClient(quad.baseUrl)
  for (let i = 0; i < 5; i++) await passwordStep(client, admin.username, `Wrong-password-${i}`)
  const page = await client.follow(await passwordStep(client, admin.username, admin.password))
  t.regex(page.text, /账户已临时锁定/)
  t.is(page.status, 200)
  t.not((await client.get('/console')).status, 200)
  const actions = await auditActions(admin.user.publicId)
  t.is(actions.filter((action) => action === 'auth.login_failed').length, 4)
  t.true(actions.includes('auth.locked'))
  const { default: User } = await import('#identity/models/user')
  const stored = await User.findOrFail(admin.user.id)
  t.true(stored.isLocked())
})

test.serial('locks an unknown name the same way, so lockout reveals nothing', async (t) => {
  const client = new TestClient(quad.baseUrl)
  for (let i = 0; i < 5; i++) await passwordStep(client, 'ghost-account', `Wrong-password-${i}`)
  const page = await client.follow(await passwordStep(client, 'ghost-account', 'Anything-at-all-1'))
  t.regex(page.text, /账户已临时锁定/)
})

test.serial('refuses a wrong TOTP code and a code that was already used', async (t) => {
  const { givenAdmin, signIn } = await fixtures()
  const { totpNow } = await import('#core/services/totp')
  const admin = await givenAdmin()
  const first = new TestClient(quad.baseUrl)
  await signIn(first, admin)

  // The same code again, from another browser within the same 30 seconds.
  const second = new TestClient(quad.baseUrl)
  t.is((await passwordStep(second, admin.username, admin.password)).location, '/login/totp')
  await second.get('/login/totp')
  const replay = await second.post('/login/totp', { code: totpNow(admin.totpSecret) })
  t.is(replay.location, '/login/totp')
  const page = await second.follow(replay)
  t.regex(page.text, /动态口令不正确或已使用/)
  t.is((await second.get('/console')).location, '/login')

  const wrong = await second.post('/login/totp', { code: '12345' })
  t.is(wrong.status, 302)
  t.is((await second.get('/console')).location, '/login')
})

test.serial('makes an admin without a second factor enroll one before entering', async (t) => {
  const { givenAdmin } = await fixtures()
  const { totpNow } = await import('#core/services/totp')
  const admin = await givenAdmin('operator', { totpSecret: null, totpConfirmedAt: null })
  const client = new TestClient(quad.baseUrl)
  t.is((await passwordStep(client, admin.username, admin.password)).location, '/login/totp')
  const page = await client.get('/login/totp')
  const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(page.text)?.[1]
  t.truthy(secret)
  const done = await client.post('/login/totp', { code: totpNow(secret!) })
  t.is(done.location, '/console')
  const { default: User } = await import('#identity/models/user')
  const stored = await User.findOrFail(admin.user.id)
  t.truthy(stored.totpConfirmedAt)
  t.truthy(stored.totpSecret)
  t.not(stored.totpSecret, secret, 'stored encrypted')
  t.true((await auditActions(admin.user.publicId)).includes('auth.totp_enrolled'))
})

test.serial('refuses a disabled account with the generic message', async (t) => {
  const { givenAdmin } = await fixtures()
  const { DateTime } = await import('luxon')
  const admin = await givenAdmin('super_admin', { disabledAt: DateTime.utc() })
  const client = new TestClient(quad.baseUrl)
  const page = await client.follow(await passwordStep(client, admin.username, admin.password))
  t.regex(page.text, /用户名或密码不正确/)
})

test.serial('sends anonymous visitors of console pages to the sign-in page', async (t) => {
  const client = new TestClient(quad.baseUrl)
  const page = await client.get('/console')
  t.is(page.status, 302)
  t.is(page.location, '/login')
  const api = await client.get('/console', { accept: 'application/json' })
  t.is(api.status, 401)
})

test.serial('treats a tampered session cookie as no session', async (t) => {
  const { givenAdmin, signIn } = await fixtures()
  const admin = await givenAdmin()
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  const cookie = client.cookie('quad_session')!
  t.truthy(cookie)
  const [value, signature] = decodeURIComponent(cookie).split('.')
  const forged = value.slice(0, -2) + (value.endsWith('A') ? 'BB' : 'AA')
  client.setCookie('quad_session', encodeURIComponent(`${forged}.${signature}`))
  t.is((await client.get('/console')).location, '/login')
})

test.serial('refuses sign-out without a CSRF token and records it', async (t) => {
  const { givenAdmin, signIn } = await fixtures()
  const admin = await givenAdmin()
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  await client.get('/console')
  const refused = await client.post('/logout', { _csrf: null })
  t.is(refused.status, 403)
  t.is((await client.get('/console')).status, 200, 'still signed in')
  const actions = await auditActions()
  t.is(actions.at(-1), 'security.csrf_rejected')
})

test.serial('signs out and the old session cookie no longer works', async (t) => {
  const { givenAdmin, signIn } = await fixtures()
  const admin = await givenAdmin()
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  await client.get('/console')
  const stolen = client.cookie('quad_session')!
  const out = await client.post('/logout', {})
  t.is(out.location, '/login')
  const page = await client.follow(out)
  t.regex(page.text, /您已安全退出/)
  const replay = new TestClient(quad.baseUrl)
  replay.setCookie('quad_session', stolen)
  t.is((await replay.get('/console')).location, '/login')
  t.true((await auditActions(admin.user.publicId)).includes('auth.logout'))
})
