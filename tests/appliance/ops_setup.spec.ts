import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { aceEnvironment, runAce } from '#tests/helpers/ace'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp()
})

test.after.always(async () => {
  await quad?.close()
})

const flags = [
  '--school-name',
  '华南示范大学',
  '--school-code',
  'SCMU',
  '--time-zone',
  'Asia/Shanghai',
  '--locale',
  'zh-CN',
  '--admin-username',
  'admin',
  '--admin-name',
  '王老师',
  '--admin-email',
  'it@scmu.edu.cn',
]

async function counts() {
  const { default: School } = await import('#appliance/models/school')
  const { default: User } = await import('#identity/models/user')
  const schools = await School.query().count('* as total').firstOrFail()
  const users = await User.query().count('* as total').firstOrFail()
  return { schools: Number(schools.$extras.total), users: Number(users.$extras.total) }
}

test.serial(
  'appliance:setup rejects a weak password and bad values, and creates nothing',
  async (t) => {
    const weak = await runAce(['appliance:setup', ...flags, '--admin-password-stdin'], {
      env: aceEnvironment(quad),
      input: 'password\n',
    })
    t.is(weak.code, 1)
    t.regex(weak.output, /at least 12 characters/)
    t.regex(weak.output, /both letters and digits/)

    const containsName = await runAce(['appliance:setup', ...flags], {
      env: { ...aceEnvironment(quad), QUAD_ADMIN_PASSWORD: 'admin-Campus-2026' },
    })
    t.is(containsName.code, 1)
    t.regex(containsName.output, /may not contain the username/)

    const badValues = await runAce(
      [
        'appliance:setup',
        ...flags.slice(0, 2),
        '--school-code',
        'bad code!',
        '--time-zone',
        'Mars/Olympus',
        '--admin-username',
        'admin',
        '--admin-name',
        '王老师',
      ],
      { env: { ...aceEnvironment(quad), QUAD_ADMIN_PASSWORD: 'Campus-2026-secure' } }
    )
    t.is(badValues.code, 1)
    t.regex(badValues.output, /--school-code: The school code may only have/)
    t.regex(badValues.output, /--time-zone: Choose a valid time zone/)

    const noPassword = await runAce(['appliance:setup', ...flags], {
      env: { ...aceEnvironment(quad), QUAD_ADMIN_PASSWORD: undefined },
    })
    t.is(noPassword.code, 1)
    t.regex(noPassword.output, /No password/)

    t.deepEqual(await counts(), { schools: 0, users: 0 })
  }
)

test.serial(
  'appliance:setup creates the school and a super admin who enrolls TOTP at first sign-in',
  async (t) => {
    const result = await runAce(['appliance:setup', ...flags, '--admin-password-stdin'], {
      env: aceEnvironment(quad),
      input: 'Campus-2026-secure\n',
    })
    t.is(result.code, 0, result.output)
    t.regex(result.output, /set up for 华南示范大学 \(SCMU\)/)

    const { default: School } = await import('#appliance/models/school')
    const { default: User } = await import('#identity/models/user')
    const { default: AuditEntry } = await import('#core/models/audit_entry')
    const school = await School.query().firstOrFail()
    t.like(school, {
      name: '华南示范大学',
      code: 'SCMU',
      timeZone: 'Asia/Shanghai',
      defaultLocale: 'zh-CN',
    })
    const admin = await User.findByOrFail('username', 'admin')
    t.is(admin.role, 'super_admin')
    t.is(admin.email, 'it@scmu.edu.cn')
    t.is(admin.totpConfirmedAt, null, 'no second factor until the admin enrolls one')
    t.not(admin.password, 'Campus-2026-secure')

    const entry = await AuditEntry.query().where('action', 'appliance.setup').firstOrFail()
    t.is(entry.actorType, 'system')
    t.regex(entry.actorName ?? '', /^operator:/)
    t.false((entry.after ?? '').includes('Campus-2026-secure'))

    // The console account works: password, then TOTP enrollment, then the console.
    const { totpNow } = await import('#core/services/totp')
    const client = new TestClient(quad.baseUrl)
    await client.get('/login')
    const first = await client.post('/login', { username: 'admin', password: 'Campus-2026-secure' })
    t.is(first.location, '/login/totp')
    const enrollment = await client.get('/login/totp')
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(enrollment.text)?.[1]
    t.truthy(secret, 'the admin is asked to enroll an authenticator app')
    const second = await client.post('/login/totp', { code: totpNow(secret!) })
    t.is(second.location, '/console')
    await admin.refresh()
    t.truthy(admin.totpConfirmedAt)
  }
)

test.serial('appliance:setup refuses a second run and changes nothing', async (t) => {
  const { default: User } = await import('#identity/models/user')
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  const adminBefore = await User.findByOrFail('username', 'admin')
  const result = await runAce(
    [
      'appliance:setup',
      '--school-name',
      'Another School',
      '--school-code',
      'OTHER',
      '--admin-username',
      'intruder',
      '--admin-name',
      'Someone',
    ],
    { env: { ...aceEnvironment(quad), QUAD_ADMIN_PASSWORD: 'Campus-2026-secure' } }
  )
  t.is(result.code, 1)
  t.regex(result.output, /already set up for 华南示范大学: appliance:setup runs only once/)
  t.deepEqual(await counts(), { schools: 1, users: 1 })
  const adminAfter = await User.findByOrFail('username', 'admin')
  t.is(adminAfter.password, adminBefore.password)
  const refused = await AuditEntry.query().where('action', 'appliance.setup_refused').first()
  t.is(refused?.outcome, 'denied')
})
