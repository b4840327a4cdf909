import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp()
})

test.after.always(async () => {
  await quad?.close()
})

function secretFrom(html: string) {
  const match = /data-testid="totp-secret">([A-Z2-7]+)</.exec(html)
  if (!match) throw new Error('no TOTP secret on the page')
  return match[1]
}

async function wizardForm(client: TestClient) {
  const page = await client.get('/setup')
  return { page, secret: secretFrom(page.text) }
}

const valid = {
  schoolName: '华南示范大学',
  schoolCode: 'SCMU',
  timeZone: 'Asia/Shanghai',
  defaultLocale: 'zh-CN',
  username: 'admin',
  displayName: '王老师',
  email: 'it@scmu.edu.cn',
  password: 'Campus-2026-secure',
  passwordConfirmation: 'Campus-2026-secure',
}

test.serial('every page leads to the wizard before setup', async (t) => {
  const client = new TestClient(quad.baseUrl)
  const console = await client.get('/console')
  t.is(console.status, 302)
  t.is(console.location, '/setup')
  const login = await client.get('/login')
  t.is(login.location, '/setup')
})

test.serial('rejects bad values in the user language and creates nothing', async (t) => {
  const { totpNow } = await import('#core/services/totp')
  const { default: School } = await import('#appliance/models/school')
  const { default: User } = await import('#identity/models/user')
  const client = new TestClient(quad.baseUrl)
  const { secret } = await wizardForm(client)
  const response = await client.post('/setup', {
    ...valid,
    schoolCode: 'bad code!',
    password: 'short1',
    passwordConfirmation: 'short1',
    totpCode: totpNow(secret),
  })
  t.is(response.status, 302)
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const flashed = (await db.from('sessions').select('data')).map((row) => String(row.data)).join('')
  t.false(flashed.includes('short1'), 'no password is flashed to the session table')
  const page = await client.follow(response)
  t.regex(page.text, /学校代码只能包含/)
  t.regex(page.text, /密码至少需要 12 个字符/)
  t.is(secretFrom(page.text), secret, 'the QR code the admin scanned stays valid')
  const kept = (await db.from('sessions').select('data')).map((row) => String(row.data)).join('')
  t.false(kept.includes('short1'), 'no password is kept in the session table after the page')
  t.is(await School.query().first(), null)
  t.is(await User.query().first(), null)
})

test.serial('shows errors in English when English is chosen', async (t) => {
  const client = new TestClient(quad.baseUrl)
  await client.get('/lang/en?back=/setup')
  const { secret } = await wizardForm(client)
  const response = await client.post('/setup', { ...valid, totpCode: '000000', schoolName: '' })
  const page = await client.follow(response)
  t.regex(page.text, /Enter the school name/)
  t.truthy(secret)
})

test.serial('refuses a wrong TOTP code and a password containing the username', async (t) => {
  const { totpNow } = await import('#core/services/totp')
  const { default: School } = await import('#appliance/models/school')
  const client = new TestClient(quad.baseUrl)
  const { secret } = await wizardForm(client)
  const wrongCode = String((Number(totpNow(secret)) + 1) % 1000000).padStart(6, '0')
  const first = await client.follow(await client.post('/setup', { ...valid, totpCode: wrongCode }))
  t.regex(first.text, /动态口令不正确/)
  const second = await client.follow(
    await client.post('/setup', {
      ...valid,
      password: 'admin-Campus-2026',
      passwordConfirmation: 'admin-Campus-2026',
      totpCode: totpNow(secret),
    })
  )
  t.regex(second.text, /密码不能包含用户名/)
  t.is(await School.query().first(), null)
})

test.serial('refuses a form without a CSRF token', async (t) => {
  const { totpNow } = await import('#core/services/totp')
  const { default: School } = await import('#appliance/models/school')
  const client = new TestClient(quad.baseUrl)
  const { secret } = await wizardForm(client)
  const response = await client.post('/setup', { ...valid, totpCode: totpNow(secret), _csrf: null })
  t.is(response.status, 403)
  t.is(await School.query().first(), null)
})

test.serial(
  'creates the school and a super admin with TOTP, then refuses a second run',
  async (t) => {
    const { totpNow } = await import('#core/services/totp')
    const { default: School } = await import('#appliance/models/school')
    const { default: User } = await import('#identity/models/user')
    const client = new TestClient(quad.baseUrl)
    const { secret } = await wizardForm(client)
    const response = await client.post('/setup', { ...valid, totpCode: totpNow(secret) })
    t.is(response.location, '/login')
    const school = await School.query().firstOrFail()
    t.is(school.name, '华南示范大学')
    t.is(school.timeZone, 'Asia/Shanghai')
    const admin = await User.findByOrFail('username', 'admin')
    t.is(admin.role, 'super_admin')
    t.truthy(admin.totpConfirmedAt)
    t.not(admin.totpSecret, secret, 'the TOTP secret is stored encrypted')
    t.not(admin.password, valid.password)

    const again = await client.get('/setup')
    t.is(again.location, '/login')
    const other = new TestClient(quad.baseUrl)
    await other.get('/login')
    const replay = await other.post('/setup', {
      ...valid,
      schoolCode: 'OTHER',
      totpCode: totpNow(secret),
    })
    t.is(replay.location, '/login')
    t.is(
      await School.query()
        .count('* as total')
        .first()
        .then((row) => Number(row?.$extras.total)),
      1
    )
  }
)
