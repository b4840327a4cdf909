import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type OrgUnit from '#identity/models/org_unit'

let quad: TestApp
let superAdmin: GivenAdmin
let auditor: GivenAdmin

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  await givenSchool()
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

async function unitByCode(code: string): Promise<OrgUnit> {
  const { default: OrgUnitModel } = await import('#identity/models/org_unit')
  return OrgUnitModel.findByOrFail('code', code)
}

async function auditActions(): Promise<string[]> {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const rows = await db.from('audit_entries').orderBy('seq').select('action')
  return rows.map((row) => row.action)
}

/** Every unit's path is its parent's path plus its own id, and its depth matches. */
async function treeIsConsistent() {
  const { default: OrgUnitModel } = await import('#identity/models/org_unit')
  const units = await OrgUnitModel.all()
  const byId = new Map(units.map((unit) => [unit.id, unit]))
  return units.every((unit) => {
    const parent = unit.parentId ? byId.get(unit.parentId) : null
    const expectedPath = `${parent ? parent.path : '/'}${unit.id}/`
    return unit.path === expectedPath && unit.depth === (parent ? parent.depth + 1 : 0)
  })
}

async function create(
  client: TestClient,
  parent: OrgUnit | null,
  kind: string,
  code: string,
  name: string
) {
  await client.get(`/console/org/new${parent ? `?parent=${parent.publicId}` : ''}`)
  return client.post('/console/org', {
    parent: parent?.publicId ?? '',
    kind,
    unitCode: code,
    unitName: name,
  })
}

test.serial(
  'builds a tree of units through the console, each creation audited and in history',
  async (t) => {
    const client = await signedIn(superAdmin)
    const root = await create(client, null, 'school', 'SCMU', '华南示范大学')
    t.is(root.status, 302)
    const school = await unitByCode('SCMU')
    t.is(root.location, `/console/org/${school.publicId}`)
    await create(client, school, 'college', 'C01', '文学院')
    await create(client, school, 'college', 'C04', '计算机学院')
    const c04 = await unitByCode('C04')
    await create(client, c04, 'major', 'C04-SE', '软件工程')
    await create(client, await unitByCode('C04-SE'), 'class', 'SE2301', '软工2301班')

    const page = await client.get(`/console/org/${c04.publicId}`)
    t.is(page.status, 200)
    t.regex(page.text, /data-kind="created"/)
    t.true(await treeIsConsistent())
    t.is((await auditActions()).filter((action) => action === 'org.unit_created').length, 5)

    const duplicate = await create(client, school, 'college', 'C04', '重复学院')
    t.is(duplicate.status, 302)
    t.regex((await client.follow(duplicate)).text, /该代码已被其他单位使用/)
    t.is((await auditActions()).filter((action) => action === 'org.unit_created').length, 5)
  }
)

test.serial('renames a unit and keeps the old name in its history', async (t) => {
  const client = await signedIn(superAdmin)
  const unit = await unitByCode('C04')
  await client.get(`/console/org/${unit.publicId}`)
  const response = await client.post(`/console/org/${unit.publicId}/rename`, {
    unitName: '计算机科学与工程学院',
    unitCode: 'C04',
  })
  t.is(response.status, 302)
  t.is((await unitByCode('C04')).name, '计算机科学与工程学院')
  const page = await client.follow(response)
  t.regex(page.text, /data-kind="renamed"/)
  t.regex(page.text, /计算机学院 → 计算机科学与工程学院/)
  t.is((await auditActions()).at(-1), 'org.unit_renamed')
})

test.serial('moves a unit with its whole subtree and rewrites every path below it', async (t) => {
  const client = await signedIn(superAdmin)
  const major = await unitByCode('C04-SE')
  const target = await unitByCode('C01')
  await client.get(`/console/org/${major.publicId}`)
  const response = await client.post(`/console/org/${major.publicId}/move`, {
    newParent: target.publicId,
  })
  t.is(response.status, 302)
  const moved = await unitByCode('C04-SE')
  const child = await unitByCode('SE2301')
  t.is(moved.parentId, target.id)
  t.true(moved.path.startsWith(target.path))
  t.true(child.path.startsWith(moved.path), 'the class moved along')
  t.is(child.depth, moved.depth + 1)
  t.true(await treeIsConsistent())
  t.is((await auditActions()).at(-1), 'org.unit_moved')
  t.regex((await client.follow(response)).text, /data-kind="moved"/)
})

test.serial('refuses to move a unit into itself or its own subtree', async (t) => {
  const client = await signedIn(superAdmin)
  const college = await unitByCode('C01')
  const grandchild = await unitByCode('SE2301')
  const before = { paths: (await unitByCode('C01')).path, audit: (await auditActions()).length }
  for (const target of [college, grandchild]) {
    await client.get(`/console/org/${college.publicId}`)
    const response = await client.post(`/console/org/${college.publicId}/move`, {
      newParent: target.publicId,
    })
    t.is(response.status, 302)
    t.regex((await client.follow(response)).text, /不能把单位移动到它自身或它的下级单位之下/)
  }
  t.is((await unitByCode('C01')).path, before.paths)
  t.is((await auditActions()).length, before.audit)
  t.true(await treeIsConsistent())

  const { MoveOrgUnit } = await import('#identity/actions/move_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const result = await new MoveOrgUnit().handle(
    { unit: { code: 'SCMU' }, newParent: { code: 'SE2301' } },
    SYSTEM_ACTOR
  )
  t.deepEqual(result, { ok: false, error: 'into_own_subtree', details: undefined })
})

test.serial('disables a unit with everything below it and enables it again', async (t) => {
  const client = await signedIn(superAdmin)
  const college = await unitByCode('C01')
  await client.get(`/console/org/${college.publicId}`)
  const disabled = await client.post(`/console/org/${college.publicId}/disable`, {})
  t.is(disabled.status, 302)
  for (const code of ['C01', 'C04-SE', 'SE2301'])
    t.truthy((await unitByCode(code)).disabledAt, code)
  t.is((await unitByCode('C04')).disabledAt, null, 'a sibling stays enabled')
  t.regex((await client.follow(disabled)).text, /已停用 3 个单位/)

  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const refused = await new CreateOrgUnit().handle(
    { parent: { code: 'C01' }, kind: 'major', code: 'C01-X', name: '新专业' },
    SYSTEM_ACTOR
  )
  t.false(refused.ok)

  const child = await unitByCode('SE2301')
  await client.get(`/console/org/${child.publicId}`)
  const blocked = await client.post(`/console/org/${child.publicId}/enable`, {})
  t.regex((await client.follow(blocked)).text, /所选上级单位已停用/)
  t.truthy((await unitByCode('SE2301')).disabledAt)

  await client.get(`/console/org/${college.publicId}`)
  await client.post(`/console/org/${college.publicId}/enable`, {})
  t.is((await unitByCode('C01')).disabledAt, null)
  t.truthy((await unitByCode('C04-SE')).disabledAt, 'units below are enabled one by one')
  const actions = await auditActions()
  t.true(actions.includes('org.unit_disabled'))
  t.is(actions.at(-1), 'org.unit_enabled')
})

test.serial(
  'refuses org changes to an account without org.write and without a CSRF token',
  async (t) => {
    const unit = await unitByCode('C04')
    const before = (await auditActions()).filter((action) => action.startsWith('org.')).length

    const outsider = await signedIn(auditor)
    await outsider.get('/console')
    const forbidden = await outsider.post(`/console/org/${unit.publicId}/rename`, {
      unitName: '被篡改',
      unitCode: 'C04',
    })
    t.is(forbidden.status, 403)

    const admin = await signedIn(superAdmin)
    await admin.get(`/console/org/${unit.publicId}`)
    const forged = await admin.post(`/console/org/${unit.publicId}/disable`, { _csrf: null })
    t.not(forged.status, 200)
    t.is((await unitByCode('C04')).disabledAt, null)
    t.is((await unitByCode('C04')).name, '计算机科学与工程学院')
    t.is((await auditActions()).filter((action) => action.startsWith('org.')).length, before)
  }
)

test.serial('shows the tree with links to each unit, in English too', async (t) => {
  const client = await signedIn(superAdmin)
  const unit = await unitByCode('C04')
  const tree = await client.get('/console/org')
  t.true(tree.text.includes(`href="/console/org/${unit.publicId}"`))
  await client.get('/lang/en?back=/console/org')
  const page = await client.get(`/console/org/${unit.publicId}`)
  t.regex(page.text, /History/)
  t.regex(page.text, /Move under another unit/)
})
