import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type OrgUnit from '#identity/models/org_unit'

let quad: TestApp
/** The only whole-school super admin when the file starts. */
let superAdmin: GivenAdmin
let auditor: GivenAdmin
let college: OrgUnit

const PASSWORD = 'Quad-strong-pass-2026'

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()
  const create = new CreateOrgUnit()
  const school = await create.handle(
    { parent: null, kind: 'school', code: 'SCMU', name: '华南示范大学' },
    SYSTEM_ACTOR
  )
  if (!school.ok) throw new Error(school.error)
  const unit = await create.handle(
    { parent: { id: school.value.id }, kind: 'college', code: 'C04', name: '计算机学院' },
    SYSTEM_ACTOR
  )
  if (!unit.ok) throw new Error(unit.error)
  college = unit.value
  superAdmin = await givenAdmin('super_admin')
  auditor = await givenAdmin('auditor')
})

test.after.always(async () => {
  await quad?.close()
})

async function signedIn(admin: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  return client
}

/** Signs in an account that has no authenticator yet, enrolling one from the page's secret. */
async function signInEnrolling(username: string, password: string) {
  const { totpNow } = await import('#core/services/totp')
  const client = new TestClient(quad.baseUrl)
  await client.get('/login')
  const first = await client.post('/login', { username, password })
  if (first.location !== '/login/totp') throw new Error(`password step: ${first.location}`)
  const page = await client.get('/login/totp')
  const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(page.text)?.[1]
  if (!secret) throw new Error('no enrollment secret shown')
  const second = await client.post('/login/totp', { code: totpNow(secret) })
  if (second.location !== '/console') throw new Error(`TOTP step: ${second.location}`)
  return client
}

/** Posts a form with repeated fields (checkboxes), with the CSRF token of the last page. */
function postPairs(client: TestClient, path: string, pairs: [string, string][]) {
  const body = new URLSearchParams(pairs)
  body.set('_csrf', client.csrfToken ?? '')
  return client.request('POST', path, {
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
}

async function roleByKey(key: string) {
  const { default: Role } = await import('#identity/models/role')
  return Role.findByOrFail('key', key)
}

async function account(username: string) {
  const { default: User } = await import('#identity/models/user')
  return User.findByOrFail('username', username)
}

async function auditActions(): Promise<string[]> {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return (await db.from('audit_entries').orderBy('seq').select('action')).map((row) => row.action)
}

async function flashError(client: TestClient, path: string) {
  const page = await client.get(path)
  return /class="flash flash--error"[^>]*>([\s\S]*?)</.exec(page.text)?.[1]?.trim() ?? ''
}

async function newAccount(
  client: TestClient,
  fields: { username: string; role: string; unit?: string; password?: string }
) {
  await client.get('/console/admins/new')
  return client.post('/console/admins', {
    username: fields.username,
    displayName: `测试 ${fields.username}`,
    password: fields.password ?? PASSWORD,
    passwordConfirmation: fields.password ?? PASSWORD,
    role: fields.role,
    unit: fields.unit ?? '',
  })
}

test.serial(
  'every account created with a role name holds that role for the whole school',
  async (t) => {
    const { default: User } = await import('#identity/models/user')
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const builtIn = await db.from('roles').where('built_in', true).orderBy('key').select('key')
    t.deepEqual(
      builtIn.map((row) => row.key),
      [
        'auditor',
        'card_office',
        'enrollment_office',
        'finance',
        'messaging_officer',
        'operator',
        'super_admin',
      ]
    )
    await User.create({
      username: 'script-operator',
      displayName: '脚本运维',
      password: PASSWORD,
      role: 'operator',
    })
    const found = await User.findByOrFail('username', 'script-operator')
    t.true(found.can('jobs.manage'))
    t.true(found.canEverywhere('system.read'))
    t.false(found.can('people.read'))
    t.deepEqual(
      found.access.grants.map((grant) => [grant.role.key, grant.unit]),
      [['operator', null]]
    )
  }
)

test.serial('refuses account and role screens to an account without admins.manage', async (t) => {
  const client = await signedIn(auditor)
  const home = await client.get('/console')
  t.notRegex(home.text, /href="\/console\/admins"/)
  t.notRegex(home.text, /href="\/console\/roles"/)
  for (const path of [
    '/console/admins',
    '/console/admins/new',
    '/console/roles',
    '/console/roles/new',
  ]) {
    t.is((await client.get(path)).status, 403, path)
  }
  await client.get('/console')
  t.is((await client.post('/console/roles', { nameZh: 'x', nameEn: 'x' })).status, 403)
  t.is((await newAccount(client, { username: 'sneaky', role: 'X' })).status, 403)

  const admin = await signedIn(superAdmin)
  const nav = await admin.get('/console')
  t.regex(nav.text, /href="\/console\/admins"/)
  t.regex(nav.text, /href="\/console\/roles"/)
})

test.serial(
  'builds a custom role from the catalogue and gives it to a new account at one college',
  async (t) => {
    const client = await signedIn(superAdmin)
    const form = await client.get('/console/roles/new')
    t.is(form.status, 200)
    t.regex(form.text, /查阅人员与组织机构/)
    t.regex(form.text, /name="permissions" value="people.reveal_pii"/)
    t.notRegex(form.text, /value="console.access"/, 'implied by every grant')
    const created = await postPairs(client, '/console/roles', [
      ['nameZh', '学院管理员'],
      ['nameEn', 'College admin'],
      ['description', '管理本学院的人员与组织机构'],
      ['permissions', 'people.read'],
      ['permissions', 'people.write'],
      ['permissions', 'org.write'],
    ])
    t.is(created.status, 302)
    const { default: Role } = await import('#identity/models/role')
    const role = await Role.findByOrFail('name_zh', '学院管理员')
    t.is(created.location, `/console/roles/${role.publicId}`)
    t.false(role.builtIn)
    t.deepEqual([...role.permissions], ['people.read', 'people.write', 'org.write'])
    t.true((await auditActions()).includes('admins.role_created'))

    await client.get('/console/roles/new')
    const empty = await postPairs(client, '/console/roles', [
      ['nameZh', '空角色'],
      ['nameEn', 'Empty'],
    ])
    t.is(empty.status, 302)
    t.is(await Role.findBy('name_zh', '空角色'), null)

    const weak = await newAccount(client, {
      username: 'college.li',
      role: role.publicId,
      unit: college.publicId,
      password: 'college.li-1234567',
    })
    t.is(weak.status, 302)
    const refusedForm = await client.get('/console/admins/new')
    t.regex(refusedForm.text, /密码不能包含用户名/)
    t.notRegex(refusedForm.text, /college\.li-1234567/, 'the password is not refilled')
    const response = await newAccount(client, {
      username: 'college.li',
      role: role.publicId,
      unit: college.publicId,
    })
    t.is(response.status, 302)
    const li = await account('college.li')
    t.is(response.location, `/console/admins/${li.publicId}`)
    t.deepEqual(
      li.access.grants.map((grant) => [grant.role.key, grant.unit?.publicId]),
      [[role.key, college.publicId]]
    )
    t.is(li.totpConfirmedAt, null, 'enrolls the authenticator at first sign-in')
    const duplicate = await newAccount(client, { username: 'college.li', role: role.publicId })
    t.is(duplicate.status, 302)
    t.is(duplicate.location, '/console/admins/new')

    const { default: db } = await import('@adonisjs/lucid/services/db')
    const entries = await db.from('audit_entries').select('after', 'meta', 'before')
    t.false(JSON.stringify(entries).includes(PASSWORD), 'no password in the audit log')

    const holder = await signInEnrolling('college.li', PASSWORD)
    t.is((await holder.get('/console/people')).status, 200)
    t.is((await holder.get('/console/admins')).status, 403)
    t.is((await holder.get('/console/audit')).status, 403)
    t.regex((await holder.get('/console')).text, /data-testid="signed-in-roles">学院管理员</)
  }
)

test.serial(
  'lists accounts with their grants, finds them by name and filters by state',
  async (t) => {
    const client = await signedIn(superAdmin)
    const list = await client.get('/console/admins')
    t.is(list.status, 200)
    t.regex(list.text, /data-username="college.li"[\s\S]*?学院管理员 · 计算机学院/)
    t.regex(list.text, new RegExp(`data-username="${auditor.username}"[\\s\\S]*?安全审计员 · 全校`))
    const found = await client.get('/console/admins?q=college')
    const names = [...found.text.matchAll(/data-testid="admin-row" data-username="([^"]+)"/g)].map(
      (match) => match[1]
    )
    t.deepEqual(names, ['college.li'])
    const disabled = await client.get('/console/admins?state=disabled')
    t.notRegex(disabled.text, /data-testid="admin-row"/)
    t.is((await client.get('/console/admins?state=nonsense')).status, 302)
  }
)

test.serial('a change to a custom role reaches its holders at their next request', async (t) => {
  const admin = await signedIn(superAdmin)
  const role = await roleByKey(await roleKeyOf('学院管理员'))
  const { givenAdmin } = await import('#tests/helpers/fixtures')
  const holder = await givenAdmin(role.key)
  const client = await signedIn(holder)
  t.is((await client.get('/console/audit')).status, 403)
  await admin.get(`/console/roles/${role.publicId}`)
  const saved = await postPairs(admin, `/console/roles/${role.publicId}`, [
    ['nameZh', '学院管理员'],
    ['nameEn', 'College admin'],
    ['permissions', 'people.read'],
    ['permissions', 'people.write'],
    ['permissions', 'org.write'],
    ['permissions', 'audit.read'],
  ])
  t.is(saved.status, 302)
  t.is((await client.get('/console/audit')).status, 200)
  t.true((await auditActions()).includes('admins.role_updated'))
})

async function roleKeyOf(nameZh: string) {
  const { default: Role } = await import('#identity/models/role')
  return (await Role.findByOrFail('name_zh', nameZh)).key
}

test.serial('built-in roles can be neither changed nor deleted', async (t) => {
  const client = await signedIn(superAdmin)
  const auditorRole = await roleByKey('auditor')
  const page = await client.get(`/console/roles/${auditorRole.publicId}`)
  t.is(page.status, 200)
  t.regex(page.text, /data-testid="built-in-role"/)
  t.notRegex(page.text, /data-testid="role-form"/)
  const changed = await postPairs(client, `/console/roles/${auditorRole.publicId}`, [
    ['nameZh', '超级审计员'],
    ['nameEn', 'Super auditor'],
    ['permissions', 'people.read'],
  ])
  t.is(changed.status, 302)
  t.regex(await flashError(client, changed.location!), /内置角色不能修改或删除/)
  const deleted = await client.post(`/console/roles/${auditorRole.publicId}/delete`, {})
  t.is(deleted.status, 302)
  const after = await roleByKey('auditor')
  t.is(after.nameZh, '安全审计员')
  t.deepEqual(
    [...after.permissions],
    ['console.access', 'audit.read', 'audit.export', 'system.read']
  )
  t.false((await auditActions()).some((action) => action === 'admins.role_deleted'))
})

test.serial(
  'a role still granted cannot be deleted; once its grants are gone it can',
  async (t) => {
    const client = await signedIn(superAdmin)
    const role = await roleByKey(await roleKeyOf('学院管理员'))
    await client.get(`/console/roles/${role.publicId}`)
    const refused = await client.post(`/console/roles/${role.publicId}/delete`, {})
    t.regex(await flashError(client, refused.location!), /仍有授权使用该角色/)
    t.truthy(await roleByKey(role.key))

    const { default: AdminGrant } = await import('#identity/models/admin_grant')
    const grants = await AdminGrant.query().where('role_id', role.id).preload('user')
    for (const grant of grants) {
      await client.get(`/console/admins/${grant.user.publicId}`)
      const removed = await client.post(
        `/console/admins/${grant.user.publicId}/grants/${grant.publicId}/remove`,
        {}
      )
      t.is(removed.status, 302)
    }
    t.is((await AdminGrant.query().where('role_id', role.id)).length, 0)
    await client.get(`/console/roles/${role.publicId}`)
    const deleted = await client.post(`/console/roles/${role.publicId}/delete`, {})
    t.is(deleted.location, '/console/roles')
    const { default: Role } = await import('#identity/models/role')
    t.is(await Role.findBy('public_id', role.publicId), null)
    const actions = await auditActions()
    t.true(actions.includes('admins.grant_removed'))
    t.true(actions.includes('admins.role_deleted'))
  }
)

test.serial(
  'adds grants, refusing a duplicate and a unit for a role that nothing there limits',
  async (t) => {
    const client = await signedIn(superAdmin)
    const li = await account('college.li')
    const enrollment = await roleByKey('enrollment_office')
    const operator = await roleByKey('operator')
    await client.get(`/console/admins/${li.publicId}`)
    const added = await client.post(`/console/admins/${li.publicId}/grants`, {
      role: enrollment.publicId,
      unit: college.publicId,
    })
    t.is(added.status, 302)
    const again = await client.post(`/console/admins/${li.publicId}/grants`, {
      role: enrollment.publicId,
      unit: college.publicId,
    })
    t.regex(await flashError(client, again.location!), /该账户已有此授权/)
    const scoped = await client.post(`/console/admins/${li.publicId}/grants`, {
      role: operator.publicId,
      unit: college.publicId,
    })
    t.regex(await flashError(client, scoped.location!), /只能授予全校范围/)
    const grants = (await account('college.li')).access.grants
    t.deepEqual(
      grants.map((grant) => [grant.role.key, grant.unit?.publicId ?? null]),
      [['enrollment_office', college.publicId]]
    )
    const page = await client.get(`/console/admins/${li.publicId}`)
    t.regex(page.text, /招生迎新办 · 计算机学院/)
  }
)

test.serial('resets a password and a second factor, both audited', async (t) => {
  const client = await signedIn(superAdmin)
  const operator = await account('script-operator')
  await client.get(`/console/admins/${operator.publicId}`)
  const weak = await client.post(`/console/admins/${operator.publicId}/password`, {
    password: 'short-1',
    passwordConfirmation: 'short-1',
  })
  t.is(weak.status, 302)
  const fresh = 'Another-strong-pass-77'
  await client.get(`/console/admins/${operator.publicId}`)
  const reset = await client.post(`/console/admins/${operator.publicId}/password`, {
    password: fresh,
    passwordConfirmation: fresh,
  })
  t.is(reset.status, 302)
  const holder = await signInEnrolling('script-operator', fresh)
  t.is((await holder.get('/console/jobs')).status, 200)
  const old = new TestClient(quad.baseUrl)
  await old.get('/login')
  t.is(
    (await old.post('/login', { username: 'script-operator', password: PASSWORD })).location,
    '/login'
  )

  t.truthy((await account('script-operator')).totpConfirmedAt)
  await client.get(`/console/admins/${operator.publicId}`)
  const factor = await client.post(`/console/admins/${operator.publicId}/second-factor`, {})
  t.is(factor.status, 302)
  const cleared = await account('script-operator')
  t.is(cleared.totpConfirmedAt, null)
  t.is(cleared.totpSecret, null)
  await signInEnrolling('script-operator', fresh)
  const actions = await auditActions()
  t.true(actions.includes('admins.password_reset'))
  t.true(actions.includes('admins.second_factor_reset'))
})

test.serial(
  'a disabled account is signed out at its next request and cannot sign in',
  async (t) => {
    const admin = await signedIn(superAdmin)
    const { givenAdmin } = await import('#tests/helpers/fixtures')
    const operator = await givenAdmin('operator')
    const client = await signedIn(operator)
    await admin.get(`/console/admins/${operator.user.publicId}`)
    const disabled = await admin.post(`/console/admins/${operator.user.publicId}/disable`, {})
    t.is(disabled.status, 302)
    t.is((await client.get('/console/jobs')).location, '/login')
    const again = new TestClient(quad.baseUrl)
    await again.get('/login')
    t.is(
      (await again.post('/login', { username: operator.username, password: operator.password }))
        .location,
      '/login'
    )
    await admin.get(`/console/admins/${operator.user.publicId}`)
    await admin.post(`/console/admins/${operator.user.publicId}/enable`, {})
    await signedIn(operator)
    const actions = await auditActions()
    t.true(actions.includes('admins.account_disabled'))
    t.true(actions.includes('admins.account_enabled'))
  }
)

test.serial(
  'keeps the last whole-school super admin, and nobody disables themselves',
  async (t) => {
    const a = await signedIn(superAdmin)
    const me = await account(superAdmin.username)
    const myGrant = me.access.grants.find((grant) => grant.role.key === 'super_admin')!
    const page = await a.get(`/console/admins/${me.publicId}`)
    t.regex(page.text, /data-testid="self-note"/)
    const self = await a.post(`/console/admins/${me.publicId}/disable`, {})
    t.regex(await flashError(a, self.location!), /不能停用自己的账户/)
    const last = await a.post(
      `/console/admins/${me.publicId}/grants/${myGrant.publicId}/remove`,
      {}
    )
    t.regex(await flashError(a, last.location!), /最后一个全校范围的超级管理员/)
    t.is((await account(superAdmin.username)).access.grants.length, 1)

    // A super admin limited to one college does not keep the keys.
    const superRole = await roleByKey('super_admin')
    t.is(
      (
        await newAccount(a, {
          username: 'college.root',
          role: superRole.publicId,
          unit: college.publicId,
        })
      ).status,
      302
    )
    await a.get(`/console/admins/${me.publicId}`)
    const stillLast = await a.post(
      `/console/admins/${me.publicId}/grants/${myGrant.publicId}/remove`,
      {}
    )
    t.regex(await flashError(a, stillLast.location!), /最后一个全校范围的超级管理员/)

    t.is((await newAccount(a, { username: 'second.root', role: superRole.publicId })).status, 302)
    const second = await account('second.root')
    await a.get(`/console/admins/${second.publicId}`)
    t.is((await a.post(`/console/admins/${second.publicId}/disable`, {})).status, 302)
    t.not((await account('second.root')).disabledAt, null, 'another super admin remains')
    // A disabled super admin keeps nothing: mine is the last again.
    await a.get(`/console/admins/${me.publicId}`)
    const whileDisabled = await a.post(
      `/console/admins/${me.publicId}/grants/${myGrant.publicId}/remove`,
      {}
    )
    t.regex(await flashError(a, whileDisabled.location!), /最后一个全校范围的超级管理员/)
    await a.get(`/console/admins/${second.publicId}`)
    await a.post(`/console/admins/${second.publicId}/enable`, {})

    const b = await signInEnrolling('second.root', PASSWORD)
    await b.get(`/console/admins/${me.publicId}`)
    const removed = await b.post(
      `/console/admins/${me.publicId}/grants/${myGrant.publicId}/remove`,
      {}
    )
    t.is(removed.status, 302)
    t.is((await account(superAdmin.username)).access.grants.length, 0)
    t.is((await a.get('/console')).location, '/login', 'without grants the console is closed')

    const secondGrant = (await account('second.root')).access.grants[0]
    await b.get(`/console/admins/${second.publicId}`)
    const own = await b.post(
      `/console/admins/${second.publicId}/grants/${secondGrant.publicId}/remove`,
      {}
    )
    t.regex(await flashError(b, own.location!), /最后一个全校范围的超级管理员/)
    const disableSelf = await b.post(`/console/admins/${second.publicId}/disable`, {})
    t.regex(await flashError(b, disableSelf.location!), /不能停用自己的账户/)

    await b.get(`/console/admins/${me.publicId}`)
    const restored = await b.post(`/console/admins/${me.publicId}/grants`, {
      role: superRole.publicId,
    })
    t.is(restored.status, 302)
    await signedIn(superAdmin)
  }
)
