import test from 'ava'
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

test.serial(
  'an admin sets an initial password; the person signs in, must replace it, and reaches home',
  async (t) => {
    const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
    const { givenPerson, auditOf, flashOf } = await fixtures()
    const { default: PortalCredential } = await import('#identity/models/portal_credential')
    const { person, personNo } = await givenPerson({ portalPassword: null, name: '林晓雨' })
    const admin = await givenAdmin('super_admin')
    const console = new TestClient(quad.baseUrl)
    await signIn(console, admin)

    // Without a password the person cannot sign in.
    const nobody = new TestClient(quad.baseUrl)
    await nobody.get('/portal/login')
    const refused = await nobody.follow(
      await nobody.post('/portal/login', { personNo, password: 'anything1' })
    )
    t.is(flashOf(refused.text), '学工号或密码不正确。')

    const personPage = await console.get(`/console/people/${person.publicId}`)
    t.regex(personPage.text, /data-testid="person-portal-account"/)
    const account = await console.get(`/console/people/${person.publicId}/portal-account`)
    t.is(account.status, 200)
    t.regex(account.text, /尚未设置，无法登录门户/)
    const issued = await console.post(
      `/console/people/${person.publicId}/portal-account/password`,
      {}
    )
    t.is(issued.status, 200)
    t.is(issued.headers.get('cache-control'), 'no-store')
    const initial = /data-testid="portal-issued-password">([^<]+)</.exec(issued.text)?.[1]
    t.regex(initial ?? '', /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/)
    t.is(await PortalCredential.query().where('password_hash', initial!).first(), null)

    // The person signs in with it (any case of the number) and must choose their own.
    const phone = new TestClient(quad.baseUrl)
    await phone.get('/portal/login')
    const first = await phone.post('/portal/login', {
      personNo: personNo.toLowerCase(),
      password: initial!,
    })
    t.is(first.location, '/portal/login/password')
    t.is((await phone.get('/portal')).location, '/portal/login', 'no session before the change')
    await phone.get('/portal/login/password')
    const weak = await phone.post('/portal/login/password', {
      newPassword: `${personNo}abc`,
      passwordConfirmation: `${personNo}abc`,
    })
    t.is(weak.location, '/portal/login/password')
    const weakPage = await phone.follow(weak)
    t.regex(weakPage.text, /密码不能包含学工号/)
    const chosen = await phone.post('/portal/login/password', {
      newPassword: 'Spring2026garden',
      passwordConfirmation: 'Spring2026garden',
    })
    t.is(chosen.location, '/portal')
    const home = await phone.get('/portal')
    t.is(home.status, 200)
    t.regex(home.text, /林晓雨/)
    for (const tile of ['campus_code', 'balance', 'service_hall', 'notices'])
      t.regex(home.text, new RegExp(`data-tile="${tile}"`))

    const credential = await PortalCredential.findByOrFail('person_id', person.id)
    t.false(credential.mustChangePassword)
    const audit = await auditOf(person.publicId)
    const set = audit.find((entry) => entry.action === 'portal.password_set')
    t.is(set?.actorType, 'user')
    t.is(set?.actorId, admin.user.publicId)
    t.deepEqual(
      audit.filter((entry) => entry.actorType === 'person').map((entry) => entry.action),
      ['portal.password_changed', 'portal.sign_in']
    )

    // The console page now says the person chose their own password.
    const after = await console.get(`/console/people/${person.publicId}/portal-account`)
    t.regex(after.text, /本人已设置/)
    t.regex(after.text, /data-testid="portal-account-sessions">1</)
  }
)

test.serial(
  'only accounts with the portal accounts permission open the portal account page',
  async (t) => {
    const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
    const { givenPerson } = await fixtures()
    const { person } = await givenPerson()
    const operator = await givenAdmin('operator')
    const client = new TestClient(quad.baseUrl)
    await signIn(client, operator)
    t.is((await client.get(`/console/people/${person.publicId}/portal-account`)).status, 403)
    await client.get('/console')
    const post = await client.post(`/console/people/${person.publicId}/portal-account/password`, {})
    t.is(post.status, 403)
  }
)

test.serial('answers the same for an unknown number and a wrong password', async (t) => {
  const { givenPerson, postSignIn, flashOf } = await fixtures()
  const given = await givenPerson()
  const wrong = new TestClient(quad.baseUrl)
  const unknown = new TestClient(quad.baseUrl)
  const first = await wrong.follow(await postSignIn(wrong, given.personNo, 'Wrong2026pass'))
  const second = await unknown.follow(await postSignIn(unknown, 'X0000000', 'Wrong2026pass'))
  t.is(flashOf(first.text), '学工号或密码不正确。')
  t.is(flashOf(second.text), flashOf(first.text))
  t.notRegex(first.text, /Wrong2026pass/)
  t.is((await wrong.get('/portal')).location, '/portal/login')
})

test.serial('locks a person number after five failures, even for the right password', async (t) => {
  const { givenPerson, postSignIn, flashOf, auditOf } = await fixtures()
  const { default: PortalCredential } = await import('#identity/models/portal_credential')
  const given = await givenPerson()
  const client = new TestClient(quad.baseUrl)
  for (let i = 0; i < 5; i++) await postSignIn(client, given.personNo, `Wrong${i}pass`)
  const page = await client.follow(await postSignIn(client, given.personNo, given.password))
  t.is(flashOf(page.text), '登录失败次数过多，请 15 分钟后再试。')
  t.is((await client.get('/portal')).location, '/portal/login')
  const credential = await PortalCredential.findByOrFail('person_id', given.person.id)
  t.true(credential.isLocked())
  const failures = (await auditOf(given.person.publicId)).filter(
    (entry) => entry.action === 'portal.sign_in_failed'
  )
  t.is(failures.length, 6)
  t.true(failures[4].meta.locked)
  t.is(failures[5].meta.step, 'locked')
})

test.serial('locks an unknown number the same way, so lockout reveals nothing', async (t) => {
  const { postSignIn, flashOf } = await fixtures()
  const client = new TestClient(quad.baseUrl)
  for (let i = 0; i < 5; i++) await postSignIn(client, 'GHOST0001', `Wrong${i}pass`)
  const page = await client.follow(await postSignIn(client, 'GHOST0001', 'Another1pass'))
  t.is(flashOf(page.text), '登录失败次数过多，请 15 分钟后再试。')
})

test.serial(
  'refuses suspended people and leavers with a clear message; graduates sign in',
  async (t) => {
    const { givenPerson, postSignIn, flashOf, portalSignIn } = await fixtures()
    for (const status of ['suspended', 'left'] as const) {
      const given = await givenPerson({ status })
      const client = new TestClient(quad.baseUrl)
      // A wrong password learns nothing about the status.
      const wrong = await client.follow(await postSignIn(client, given.personNo, 'Wrong2026pass'))
      t.is(flashOf(wrong.text), '学工号或密码不正确。')
      const right = await client.follow(await postSignIn(client, given.personNo, given.password))
      t.regex(flashOf(right.text) ?? '', /当前不可登录/)
      t.is((await client.get('/portal')).location, '/portal/login')
    }
    const alumnus = await givenPerson({ status: 'graduated' })
    const client = new TestClient(quad.baseUrl)
    await portalSignIn(client, alumnus)
    t.is((await client.get('/portal')).status, 200)
  }
)

test.serial('ends the session of someone suspended while signed in', async (t) => {
  const { givenPerson, portalSignIn, flashOf } = await fixtures()
  const given = await givenPerson()
  const client = new TestClient(quad.baseUrl)
  await portalSignIn(client, given)
  given.person.status = 'suspended'
  await given.person.save()
  const response = await client.get('/portal/me')
  t.is(response.location, '/portal/login?next=%2Fportal%2Fme')
  t.regex(flashOf((await client.follow(response)).text) ?? '', /当前不可登录/)
})

test.serial('signs in with an e-mail address only when no one else shares it', async (t) => {
  const { givenPerson, postSignIn, portalSignIn } = await fixtures()
  const own = await givenPerson({ email: 'Lin.Xiao@scmu.edu.cn' })
  const client = new TestClient(quad.baseUrl)
  await portalSignIn(client, { ...own, personNo: 'lin.xiao@SCMU.edu.cn' })
  await givenPerson({ email: 'shared@scmu.edu.cn' })
  const shared = await givenPerson({ email: 'shared@scmu.edu.cn' })
  const other = new TestClient(quad.baseUrl)
  const response = await postSignIn(other, 'shared@scmu.edu.cn', shared.password)
  t.is(response.location, '/portal/login')
})

test.serial('with TOTP turned on, sign-in asks for a code and refuses a used one', async (t) => {
  const { givenPerson, portalSignIn, postSignIn, flashOf, auditOf } = await fixtures()
  const { totpNow } = await import('#core/services/totp')
  const given = await givenPerson()
  const phone = new TestClient(quad.baseUrl)
  await portalSignIn(phone, given)

  const security = await phone.get('/portal/me/security')
  t.regex(security.text, /data-testid="portal-totp-enable"/)
  const setup = await phone.get('/portal/me/totp')
  t.regex(setup.text, /<svg/)
  const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(setup.text)![1]
  t.notRegex(
    JSON.stringify(await (await import('@adonisjs/lucid/services/db')).default.from('sessions')),
    new RegExp(secret)
  )
  const wrongCode = await phone.post('/portal/me/totp', { code: '000000' })
  t.is(wrongCode.location, '/portal/me/totp')
  await phone.get('/portal/me/totp')
  const enabling = totpNow(secret)
  const enabled = await phone.post('/portal/me/totp', { code: enabling })
  t.is(enabled.location, '/portal/me/security')
  t.regex((await phone.get('/portal/me/security')).text, /已开启/)

  // A new sign-in now needs a code; the one used to turn TOTP on is spent.
  const desktop = new TestClient(quad.baseUrl)
  t.is((await postSignIn(desktop, given.personNo, given.password)).location, '/portal/login/totp')
  await desktop.get('/portal/login/totp')
  const replayed = await desktop.post('/portal/login/totp', { code: enabling })
  t.is(replayed.location, '/portal/login/totp')
  t.is(
    flashOf((await desktop.follow(replayed)).text),
    '动态口令不正确或已使用，请输入验证器中的最新口令。'
  )
  const next = totpNow(secret, Date.now() + 30_000)
  const accepted = await desktop.post('/portal/login/totp', { code: next })
  t.is(accepted.location, '/portal')
  t.is((await desktop.get('/portal')).status, 200)

  // The same code from a third browser is a replay.
  const third = new TestClient(quad.baseUrl)
  await postSignIn(third, given.personNo, given.password)
  await third.get('/portal/login/totp')
  t.is((await third.post('/portal/login/totp', { code: next })).location, '/portal/login/totp')
  t.is((await third.get('/portal')).location, '/portal/login')

  const actions = (await auditOf(given.person.publicId)).map((entry) => entry.action)
  t.true(actions.includes('portal.totp_enabled'))
  const { sessionsOf } = await fixtures()
  const newest = (await sessionsOf(given.person))[0]
  t.true(newest.secondFactorPassed)

  // Turning it off asks for the password.
  await phone.get('/portal/me/security')
  const refused = await phone.post('/portal/me/totp/disable', { currentPassword: 'Wrong2026pass' })
  t.regex(flashOf((await phone.follow(refused)).text) ?? '', /当前密码不正确/)
  await phone.post('/portal/me/totp/disable', { currentPassword: given.password })
  t.regex((await phone.get('/portal/me/security')).text, /未开启/)
})

test.serial('without outgoing mail there is no e-mail reset, only the office', async (t) => {
  const client = new TestClient(quad.baseUrl)
  const login = await client.get('/portal/login')
  t.notRegex(login.text, /forgot-link/)
  t.regex(login.text, /领取初始密码/)
  t.is((await client.get('/portal/password/forgot')).status, 404)
})

test.serial(
  'the sign-in page carries a strict content security policy and no inline script',
  async (t) => {
    const client = new TestClient(quad.baseUrl)
    const page = await client.get('/portal/login')
    const csp = page.headers.get('content-security-policy') ?? ''
    t.regex(csp, /script-src 'self'/)
    t.notRegex(page.text, /<script(?![^>]*\bsrc=)[^>]*>/)
    t.notRegex(page.text, /\sstyle="/)
    t.regex(page.text, /\/js\/portal_login\.js/)
  }
)
