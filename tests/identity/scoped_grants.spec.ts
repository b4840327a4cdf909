import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type OrgUnit from '#identity/models/org_unit'
import type Person from '#identity/models/person'

/*
 * A college's admin sees and changes only that college: the tree below
 * 计算机学院 (C04). 文学院 (C01) is someone else's. Every refusal is a 403,
 * recorded as security.forbidden, and leaves the data as it was.
 */

let quad: TestApp
let superAdmin: GivenAdmin
/** A custom "college admin" role held at C04. */
let collegeAdmin: GivenAdmin
/** Reads the whole school (messaging officer), writes only in C04 (enrollment office). */
let readsAllWritesCollege: GivenAdmin
/** The enrollment office at C04 only. */
let collegeEnrollment: GivenAdmin
const units: Record<string, OrgUnit> = {}
const people: Record<string, Person> = {}

const HEADER = '学工号,姓名,性别,身份类型,所属单位代码,入学年份,手机号,证件类型,证件号码'

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SavePerson } = await import('#identity/actions/save_person')
  const { SaveRole } = await import('#identity/actions/save_role')
  const { GrantAdminRole } = await import('#identity/actions/grant_admin_role')
  const { default: Role } = await import('#identity/models/role')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()

  const create = new CreateOrgUnit()
  const unit = async (parent: string | null, kind: any, code: string, name: string) => {
    const result = await create.handle(
      { parent: parent ? { id: units[parent].id } : null, kind, code, name },
      SYSTEM_ACTOR
    )
    if (!result.ok) throw new Error(result.error)
    units[code] = result.value
  }
  await unit(null, 'school', 'SCMU', '华南示范大学')
  await unit('SCMU', 'college', 'C01', '文学院')
  await unit('C01', 'class', 'C01-2301', '汉语言2301班')
  await unit('SCMU', 'college', 'C04', '计算机学院')
  await unit('C04', 'class', 'C04-2301', '计科2301班')

  const save = new SavePerson()
  const person = async (personNo: string, name: string, unitCode: string, phone?: string) => {
    const result = await save.handle(
      {
        personNo,
        name,
        gender: 'female',
        identityType: 'undergraduate',
        orgUnit: { id: units[unitCode].id },
        phone: phone ?? null,
        idDocType: phone ? 'resident_id' : null,
        idDocNumber: phone ? '11010519491231002X' : null,
      },
      { mode: 'create' },
      SYSTEM_ACTOR
    )
    if (!result.ok) throw new Error(JSON.stringify(result))
    people[personNo] = result.value.person
  }
  await person('W2301001', '王文一', 'C01-2301', '13800138001')
  await person('W2301002', '王文二', 'C01-2301')
  await person('J2301001', '李计一', 'C04-2301', '13800138002')
  await person('J2301002', '李计二', 'C04-2301')
  await person('J0000001', '张院办', 'C04')

  const role = await new SaveRole().handle(
    {
      nameZh: '学院管理员',
      nameEn: 'College admin',
      description: null,
      permissions: ['people.read', 'people.write', 'people.reveal_pii', 'org.write'],
    },
    { mode: 'create' },
    SYSTEM_ACTOR
  )
  if (!role.ok) throw new Error(role.error)
  superAdmin = await givenAdmin('super_admin')
  collegeAdmin = await givenAdmin(role.value.key, {}, { unit: 'C04' })
  collegeEnrollment = await givenAdmin('enrollment_office', {}, { unit: units.C04 })
  readsAllWritesCollege = await givenAdmin('enrollment_office', {}, { unit: 'C04' })
  const messaging = await Role.findByOrFail('key', 'messaging_officer')
  const granted = await new GrantAdminRole().handle(
    { account: readsAllWritesCollege.user.publicId, role: messaging.publicId, unit: null },
    SYSTEM_ACTOR
  )
  if (!granted.ok) throw new Error(granted.error)
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

function listed(html: string): string[] {
  return [...html.matchAll(/data-testid="person-row" data-person-no="([^"]+)"/g)]
    .map((match) => match[1])
    .sort()
}

async function peopleRows() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db.from('people').orderBy('id').select('*')
}

async function unitRows() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db.from('org_units').orderBy('id').select('*')
}

async function countAudit(action: string) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const row = await db.from('audit_entries').where('action', action).count('* as total').first()
  return Number(row.total)
}

/** The fields the person form posts, for a forged submission. */
function personForm(person: Person, unit: OrgUnit) {
  return {
    personNo: person.personNo,
    name: person.name,
    gender: person.gender,
    identityType: person.identityType,
    orgUnit: unit.publicId,
  }
}

test.serial('a college admin lists and searches only the people of their college', async (t) => {
  const client = await signedIn(collegeAdmin)
  const college = ['J0000001', 'J2301001', 'J2301002']
  t.deepEqual(listed((await client.get('/console/people')).text), college)
  t.deepEqual(listed((await client.get('/console/people?q=%E7%8E%8B')).text), [], '王 is in C01')
  t.deepEqual(listed((await client.get('/console/people?q=W23')).text), [])
  t.deepEqual(listed((await client.get('/console/people?q=13800138001')).text), [], 'by phone')
  t.deepEqual(listed((await client.get('/console/people?q=13800138002')).text), ['J2301001'])
  t.deepEqual(listed((await client.get(`/console/people?unit=${units.C01.publicId}`)).text), [])
  const page = await client.get('/console/people')
  t.notRegex(page.text, new RegExp(units['C01-2301'].publicId), 'no C01 unit to filter by')
  t.regex(page.text, new RegExp(units['C04-2301'].publicId))

  const tree = await client.get('/console/org')
  const codes = [...tree.text.matchAll(/data-testid="org-unit" data-code="([^"]+)"/g)].map(
    (match) => match[1]
  )
  t.deepEqual(codes, ['C04', 'C04-2301'])

  const everyone = await signedIn(superAdmin)
  t.is(listed((await everyone.get('/console/people')).text).length, 5)
})

test.serial(
  'refuses a college admin every page and change of a person outside the college, by URL or forged post',
  async (t) => {
    const client = await signedIn(collegeAdmin)
    const outsider = people.W2301001
    const before = await peopleRows()
    const forbidden = await countAudit('security.forbidden')
    await client.get('/console/people')
    const attempts = [
      await client.get(`/console/people/${outsider.publicId}`),
      await client.get(`/console/people/${outsider.publicId}/edit`),
      await client.post(`/console/people/${outsider.publicId}`, {
        ...personForm(outsider, units['C01-2301']),
        name: '改过的名字',
      }),
      await client.post(`/console/people/${outsider.publicId}/status`, {
        status: 'suspended',
        reason: '越权测试',
      }),
      await client.post(`/console/people/${outsider.publicId}/reveal`, { field: 'phone' }),
      await client.post(`/console/people/${outsider.publicId}/reveal`, { field: 'idDocNumber' }),
    ]
    t.deepEqual(
      attempts.map((response) => response.status),
      [403, 403, 403, 403, 403, 403]
    )
    t.notRegex(attempts[4].text, /13800138001/)
    t.deepEqual(await peopleRows(), before, 'nothing changed')
    t.is(await countAudit('people.pii_revealed'), 0)
    t.is(await countAudit('security.forbidden'), forbidden + attempts.length)

    // Inside the college the same account may do all of it.
    const own = people.J2301001
    t.is((await client.get(`/console/people/${own.publicId}`)).status, 200)
    const revealed = await client.post(`/console/people/${own.publicId}/reveal`, {
      field: 'phone',
    })
    t.is(revealed.status, 200)
    t.regex(revealed.text, /13800138002/)
  }
)

test.serial(
  'a college admin cannot move a person out of the college or add one outside it',
  async (t) => {
    const client = await signedIn(collegeAdmin)
    const own = people.J2301002
    const before = await peopleRows()
    await client.get(`/console/people/${own.publicId}/edit`)
    const moved = await client.post(
      `/console/people/${own.publicId}`,
      personForm(own, units['C01-2301'])
    )
    t.is(moved.status, 403)
    await client.get('/console/people/new')
    const added = await client.post('/console/people', {
      personNo: 'W2301099',
      name: '越权新增',
      gender: 'male',
      identityType: 'undergraduate',
      status: 'active',
      orgUnit: units['C01-2301'].publicId,
    })
    t.is(added.status, 403)
    t.deepEqual(await peopleRows(), before)

    const form = await client.get('/console/people/new')
    t.notRegex(form.text, new RegExp(units['C01-2301'].publicId), 'the form offers only C04 units')

    await client.get(`/console/people/${own.publicId}/edit`)
    const within = await client.post(`/console/people/${own.publicId}`, personForm(own, units.C04))
    t.is(within.status, 302)
    t.is(within.location, `/console/people/${own.publicId}`)
    const { default: Person } = await import('#identity/models/person')
    t.is((await Person.findOrFail(own.id)).orgUnitId, units.C04.id)
    await client.get('/console/people/new')
    const created = await client.post('/console/people', {
      personNo: 'J2301099',
      name: '院内新增',
      gender: 'male',
      identityType: 'undergraduate',
      status: 'active',
      orgUnit: units['C04-2301'].publicId,
    })
    t.is(created.status, 302)
    t.truthy(await Person.findBy('person_no', 'J2301099'))
  }
)

test.serial(
  'a college admin creates, renames and moves units only inside the college',
  async (t) => {
    const client = await signedIn(collegeAdmin)
    const before = await unitRows()
    const form = await client.get('/console/org/new')
    t.is(form.status, 200)
    t.notRegex(form.text, /作为顶级单位/, 'no top-level choice')
    t.notRegex(form.text, new RegExp(units.C01.publicId))
    const refused = [
      await client.post('/console/org', {
        parent: units.C01.publicId,
        kind: 'class',
        unitCode: 'C01-2399',
        unitName: '越权班',
      }),
      await client.post('/console/org', {
        parent: '',
        kind: 'school',
        unitCode: 'X',
        unitName: '新学校',
      }),
      await client.get(`/console/org/${units.C01.publicId}`),
      await client.post(`/console/org/${units.C01.publicId}/rename`, {
        unitName: '改名',
        unitCode: 'C01',
      }),
      await client.post(`/console/org/${units.C01.publicId}/disable`, {}),
      await client.post(`/console/org/${units['C04-2301'].publicId}/move`, {
        newParent: units.C01.publicId,
      }),
      await client.post(`/console/org/${units['C01-2301'].publicId}/move`, {
        newParent: units.C04.publicId,
      }),
      await client.post(`/console/org/${units.SCMU.publicId}/rename`, {
        unitName: '改名',
        unitCode: 'SCMU',
      }),
    ]
    t.deepEqual(
      refused.map((response) => response.status),
      [403, 403, 403, 403, 403, 403, 403, 403]
    )
    t.deepEqual(await unitRows(), before, 'the tree is as it was')

    await client.get(`/console/org/new?parent=${units.C04.publicId}`)
    const created = await client.post('/console/org', {
      parent: units.C04.publicId,
      kind: 'class',
      unitCode: 'C04-2302',
      unitName: '计科2302班',
    })
    t.is(created.status, 302)
    const { default: OrgUnit } = await import('#identity/models/org_unit')
    const added = await OrgUnit.findByOrFail('code', 'C04-2302')
    t.true(added.path.startsWith(units.C04.path))
    const renamed = await client.post(`/console/org/${added.publicId}/rename`, {
      unitName: '计科2302班（新）',
      unitCode: 'C04-2302',
    })
    t.is(renamed.status, 302)
    t.is((await OrgUnit.findByOrFail('code', 'C04-2302')).name, '计科2302班（新）')

    const page = await client.get(`/console/org/${units['C04-2301'].publicId}`)
    t.is(page.status, 200)
    t.notRegex(page.text, new RegExp(`option value="${units.C01.publicId}"`), 'no move into C01')
    t.notRegex(
      page.text,
      new RegExp(`href="/console/org/${units.SCMU.publicId}"`),
      'school not linked'
    )
  }
)

test.serial('a college admin exports only the people of the college', async (t) => {
  const client = await signedIn(collegeAdmin)
  await client.get('/console/people')
  const plain = await client.post('/console/people/export', { format: 'csv' })
  t.is(plain.status, 200)
  t.regex(plain.text, /J2301001/)
  t.notRegex(plain.text, /W2301001|W2301002/)
  await client.get('/console/people')
  const clear = await client.post('/console/people/export', { format: 'csv', revealPii: '1' })
  t.regex(clear.text, /13800138002/)
  t.notRegex(clear.text, /13800138001/)
})

test.serial('a college admin imports rows only into the college', async (t) => {
  const client = await signedIn(collegeAdmin)
  await client.get('/console/people/import')
  const csv = [
    HEADER,
    'J2301050,赵院内,男,本科生,C04-2301,2023,,,',
    'W2301050,钱院外,男,本科生,C01-2301,2023,,,',
  ].join('\n')
  const form = new FormData()
  form.set('_csrf', client.csrfToken!)
  form.set('file', new Blob([Buffer.from(csv)]), 'people.csv')
  const cookies = (client as unknown as { cookieHeader(): string }).cookieHeader()
  const uploaded = await fetch(`${quad.baseUrl}/console/people/import`, {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers: { cookie: cookies, referer: `${quad.baseUrl}/console/people/import` },
  })
  t.is(uploaded.status, 302)
  const location = uploaded.headers.get('location')!
  t.regex(location, /^\/console\/imports\//)
  const { runDueJobs } = await import('#appliance/services/jobs')
  await runDueJobs({ workerId: 'test-worker' })
  const page = await client.get(location)
  const errors = [
    ...page.text.matchAll(/data-testid="import-error" data-line="(\d+)" data-code="([a-z_]+)"/g),
  ].map((match) => `${match[1]} ${match[2]}`)
  t.deepEqual(errors, ['3 org_unit_out_of_scope'])

  // A whole-school import of someone else is not the college admin's to open.
  const other = await signedIn(superAdmin)
  await other.get('/console/people/import')
  const superForm = new FormData()
  superForm.set('_csrf', other.csrfToken!)
  superForm.set(
    'file',
    new Blob([Buffer.from(`${HEADER}\nW2301051,孙院外,男,本科生,C01-2301,2023,,,\n`)]),
    'p.csv'
  )
  const theirs = await fetch(`${quad.baseUrl}/console/people/import`, {
    method: 'POST',
    redirect: 'manual',
    body: superForm,
    headers: {
      cookie: (other as unknown as { cookieHeader(): string }).cookieHeader(),
      referer: `${quad.baseUrl}/console/people/import`,
    },
  })
  const theirLocation = theirs.headers.get('location')!
  t.regex(theirLocation, /^\/console\/imports\//)
  t.is((await client.get(theirLocation)).status, 403)
  t.is((await client.post(`${theirLocation}/confirm`, {})).status, 403)
})

test.serial(
  'a grant that reads the whole school but writes in one college shows the rest read-only',
  async (t) => {
    const client = await signedIn(readsAllWritesCollege)
    t.is(listed((await client.get('/console/people')).text).length >= 5, true)
    const outside = await client.get(`/console/people/${people.W2301001.publicId}`)
    t.is(outside.status, 200)
    t.notRegex(outside.text, /data-testid="person-edit"/)
    t.notRegex(outside.text, /data-testid="status-form"/)
    t.notRegex(outside.text, /\/reveal/)
    t.is((await client.get(`/console/people/${people.W2301001.publicId}/edit`)).status, 403)
    const inside = await client.get(`/console/people/${people.J2301001.publicId}`)
    t.regex(inside.text, /data-testid="person-edit"/)
    t.is(
      (await client.get('/console/audiences')).status,
      200,
      'audiences from the whole-school grant'
    )
  }
)

test.serial('a grant at a unit gives no school-wide permission of its role', async (t) => {
  const client = await signedIn(collegeEnrollment)
  t.is((await client.get('/console/audiences')).status, 403, 'audiences stay school-wide')
  t.deepEqual(listed((await client.get('/console/people')).text).includes('W2301001'), false)
  t.is((await client.get('/console/people')).status, 200)
})

test.serial('a grant follows its unit when the unit moves', async (t) => {
  const { MoveOrgUnit } = await import('#identity/actions/move_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const { givenAdmin } = await import('#tests/helpers/fixtures')
  const classAdmin = await givenAdmin('enrollment_office', {}, { unit: 'C04-2301' })
  const client = await signedIn(classAdmin)
  t.deepEqual(listed((await client.get('/console/people')).text), ['J2301001', 'J2301099'])
  const moved = await new MoveOrgUnit().handle(
    { unit: { id: units['C04-2301'].id }, newParent: { id: units.C01.id } },
    SYSTEM_ACTOR
  )
  t.true(moved.ok)
  t.deepEqual(listed((await client.get('/console/people')).text), ['J2301001', 'J2301099'])
  t.is((await client.get(`/console/people/${people.J2301001.publicId}`)).status, 200)
  t.is((await client.get(`/console/people/${people.W2301002.publicId}`)).status, 403)
})
