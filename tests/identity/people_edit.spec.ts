import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type OrgUnit from '#identity/models/org_unit'

let quad: TestApp
let superAdmin: GivenAdmin
let auditor: GivenAdmin
let college: OrgUnit
let aClass: OrgUnit
let closedClass: OrgUnit

const PHONE = '13912345678'
const ID_NUMBER = '440106200002291238'

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { DisableOrgUnit } = await import('#identity/actions/disable_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()
  superAdmin = await givenAdmin('super_admin')
  auditor = await givenAdmin('auditor')
  const create = new CreateOrgUnit()
  const unit = async (parent: OrgUnit | null, kind: any, code: string, name: string) => {
    const result = await create.handle(
      { parent: parent ? { id: parent.id } : null, kind, code, name },
      SYSTEM_ACTOR
    )
    if (!result.ok) throw new Error(result.error)
    return result.value
  }
  const school = await unit(null, 'school', 'SCMU', '华南示范大学')
  college = await unit(school, 'college', 'C04', '计算机学院')
  aClass = await unit(college, 'class', 'C04-2301', '计科2301班')
  closedClass = await unit(college, 'class', 'C04-1901', '计科1901班')
  await new DisableOrgUnit().handle({ id: closedClass.id }, SYSTEM_ACTOR)
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

/** Every row of the tables where personal data could leak, as one string. */
async function everything() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const tables = ['people', 'audit_entries', 'sessions', 'person_changes']
  const dumps = await Promise.all(tables.map((table) => db.from(table).select('*')))
  return JSON.stringify(dumps)
}

async function counts() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const one = async (table: string) =>
    Number((await db.from(table).count('* as total').first())!.total)
  return {
    people: await one('people'),
    audit: await one('audit_entries'),
    changes: await one('person_changes'),
  }
}

function form(overrides: Record<string, string | null> = {}) {
  return {
    personNo: 's2023001',
    name: '李小明',
    gender: 'male',
    identityType: 'undergraduate',
    orgUnit: aClass.publicId,
    status: 'active',
    enrollmentYear: '2023',
    expectedGraduationDate: '2027-06-30',
    email: 'li@example.edu.cn',
    phone: '139 1234 5678',
    idDocType: 'resident_id',
    idDocNumber: ID_NUMBER,
    tags: '住校, 校队，住校',
    ...overrides,
  }
}

async function findPerson(personNo: string) {
  const { default: Person } = await import('#identity/models/person')
  return Person.query().where('person_no', personNo).preload('tags').first()
}

/** The inline error shown under a form field. */
function fieldError(html: string, field: string): string | undefined {
  return new RegExp(`data-error-for="${field}">([^<]*)<`).exec(html)?.[1]
}

test.serial(
  'creates a person with every field and keeps phone and ID number encrypted',
  async (t) => {
    const client = await signedIn(superAdmin)
    const page = await client.get('/console/people/new')
    t.is(page.status, 200)
    const response = await client.post('/console/people', form())
    t.is(response.status, 302)
    const person = await findPerson('S2023001')
    t.truthy(person)
    t.is(response.location, `/console/people/${person!.publicId}`)
    t.is(person!.phoneMasked, '139****5678')
    t.is(person!.idDocMasked, '4401**********1238')
    t.is(person!.expectedGraduationDate?.toISODate(), '2027-06-30')
    t.deepEqual(person!.tags.map((tag) => tag.name).sort(), ['住校', '校队'].sort())

    const detail = await client.follow(response)
    t.regex(detail.text, /人员已创建/)
    t.true(detail.text.includes('139****5678'))
    t.true(detail.text.includes('4401**********1238'))
    t.false(detail.text.includes(PHONE))
    t.false(detail.text.includes(ID_NUMBER))
    t.regex(detail.text, /data-testid="history-entry" data-kind="created"/)

    const stored = await everything()
    t.true(stored.includes('139****5678'), 'the masked value is there')
    t.false(stored.includes(PHONE), 'no phone in clear in people, audit, sessions or history')
    t.false(stored.includes(ID_NUMBER), 'no ID number in clear')
    t.false(stored.includes('5678 '), 'nor the phone as typed')
  }
)

test.serial(
  'finds exactly one person by exact phone or ID number through the blind index',
  async (t) => {
    const client = await signedIn(superAdmin)
    await client.post(
      '/console/people',
      form({
        personNo: 'S2023002',
        name: '王芳',
        phone: '13800001111',
        idDocNumber: '11010519491231002X',
        tags: '',
      })
    )
    for (const query of [PHONE, '+86 139-1234-5678', ID_NUMBER, '11010519491231002x']) {
      const page = await client.get(`/console/people?q=${encodeURIComponent(query)}`)
      const rows = [...page.text.matchAll(/data-testid="person-row" data-person-no="([^"]+)"/g)]
      t.is(rows.length, 1, query)
    }
    const byPhone = await client.get(`/console/people?q=${PHONE}`)
    t.regex(byPhone.text, /data-person-no="S2023001"/)
    const none = await client.get('/console/people?q=13900000000')
    t.notRegex(none.text, /data-testid="person-row"/)
  }
)

test.serial(
  'reveals a number once to a permitted admin and audits which field, not the value',
  async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const person = (await findPerson('S2023001'))!
    const client = await signedIn(superAdmin)
    await client.get(`/console/people/${person.publicId}`)
    const revealed = await client.post(`/console/people/${person.publicId}/reveal`, {
      field: 'idDocNumber',
    })
    t.is(revealed.status, 200)
    t.regex(revealed.text, new RegExp(`data-testid="revealed-value">${ID_NUMBER}<`))
    t.is(revealed.headers.get('cache-control'), 'no-store')

    const entry = await db
      .from('audit_entries')
      .where('action', 'people.pii_revealed')
      .orderBy('seq', 'desc')
      .first()
    t.is(entry.subject_id, person.publicId)
    t.deepEqual(JSON.parse(entry.meta), { field: 'idDocNumber' })
    t.false(JSON.stringify(entry).includes(ID_NUMBER))

    const again = await client.get(`/console/people/${person.publicId}`)
    t.false(again.text.includes(ID_NUMBER), 'not kept for the next page')
    t.false((await everything()).includes(ID_NUMBER), 'nor in the session')
  }
)

test.serial('refuses to reveal without the permission or without a CSRF token', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const person = (await findPerson('S2023001'))!
  const before = await db
    .from('audit_entries')
    .where('action', 'people.pii_revealed')
    .count('* as n')

  const outsider = await signedIn(auditor)
  await outsider.get('/console')
  const refused = await outsider.post(`/console/people/${person.publicId}/reveal`, {
    field: 'phone',
  })
  t.is(refused.status, 403)
  t.false(refused.text.includes(PHONE))

  const admin = await signedIn(superAdmin)
  await admin.get(`/console/people/${person.publicId}`)
  const forged = await admin.post(`/console/people/${person.publicId}/reveal`, {
    field: 'phone',
    _csrf: null,
  })
  t.not(forged.status, 200)
  t.false(forged.text.includes(PHONE))

  const after = await db
    .from('audit_entries')
    .where('action', 'people.pii_revealed')
    .count('* as n')
  t.deepEqual(after, before)
})

test.serial(
  'edits a person and keeps masked values only in the history and the audit log',
  async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const person = (await findPerson('S2023001'))!
    const client = await signedIn(superAdmin)
    const edit = await client.get(`/console/people/${person.publicId}/edit`)
    t.is(edit.status, 200)
    t.false(edit.text.includes(PHONE))
    const response = await client.post(`/console/people/${person.publicId}`, {
      ...form({ name: '李晓明', phone: '13700007777', idDocNumber: '', tags: '住校' }),
    })
    t.is(response.status, 302)
    const updated = (await findPerson('S2023001'))!
    t.is(updated.name, '李晓明')
    t.is(updated.phoneMasked, '137****7777')
    t.is(updated.idDocMasked, '4401**********1238', 'an empty ID field keeps the number')
    t.deepEqual(
      updated.tags.map((tag) => tag.name),
      ['住校']
    )

    const entry = await db
      .from('audit_entries')
      .where('action', 'people.updated')
      .orderBy('seq', 'desc')
      .first()
    t.deepEqual(JSON.parse(entry.before), {
      name: '李小明',
      phone: '139****5678',
      tags: ['住校', '校队'],
    })
    t.deepEqual(JSON.parse(entry.after), { name: '李晓明', phone: '137****7777', tags: ['住校'] })
    const stored = await everything()
    t.false(stored.includes('13700007777'))
    t.false(stored.includes(PHONE))

    const detail = await client.follow(response)
    t.regex(detail.text, /data-kind="updated"/)
    t.regex(detail.text, /139\*\*\*\*5678 → 137\*\*\*\*7777/)
  }
)

test.serial('changes status along allowed transitions with a required reason', async (t) => {
  const person = (await findPerson('S2023001'))!
  const client = await signedIn(superAdmin)
  await client.get(`/console/people/${person.publicId}`)
  const noReason = await client.post(`/console/people/${person.publicId}/status`, {
    status: 'suspended',
    reason: '',
  })
  t.is(noReason.status, 302)
  t.is((await findPerson('S2023001'))!.status, 'active')
  t.truthy(fieldError((await client.follow(noReason)).text, 'reason'))

  await client.post(`/console/people/${person.publicId}/status`, {
    status: 'suspended',
    reason: '因病休学一年',
  })
  t.is((await findPerson('S2023001'))!.status, 'suspended')
  await client.post(`/console/people/${person.publicId}/status`, { status: 'left', reason: '退学' })
  t.is((await findPerson('S2023001'))!.status, 'left')

  const page = await client.get(`/console/people/${person.publicId}`)
  const refused = await client.post(`/console/people/${person.publicId}/status`, {
    status: 'graduated',
    reason: '误操作',
  })
  t.is((await findPerson('S2023001'))!.status, 'left', 'left → graduated is not a transition')
  t.regex((await client.follow(refused)).text, /不允许从当前状态变更为所选状态/)
  t.regex(page.text, /data-kind="status_changed"/)
  t.true(page.text.includes('因病休学一年'))
  t.true(page.text.includes('退学'))
})

test.serial("bad input changes nothing and is explained in the reader's language", async (t) => {
  const client = await signedIn(superAdmin)
  const before = await counts()
  const wrongCheckDigit = '440106200002291239'
  const cases: [Record<string, string | null>, string, RegExp, RegExp][] = [
    [
      { personNo: 's2023002' },
      'personNo',
      /该学工号已被其他人员使用/,
      /already used by someone else/,
    ],
    [
      { personNo: 'S2023009', idDocNumber: wrongCheckDigit },
      'idDocNumber',
      /校验码不正确/,
      /check digit of the ID number is wrong/,
    ],
    [
      { personNo: 'S2023009', orgUnit: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
      'orgUnit',
      /所选单位不存在/,
      /unit does not exist/,
    ],
    [{ personNo: 'S2023009', orgUnit: closedClass.publicId }, 'orgUnit', /已停用/, /disabled/],
    [
      { personNo: 'S2023009', phone: '12345' },
      'phone',
      /电话号码格式不正确/,
      /phone number is not valid/,
    ],
    [
      { personNo: 'S2023009', orgUnit: 'nonsense' },
      'orgUnit',
      /所属单位格式不正确/,
      /unit is not in the right format/,
    ],
  ]
  for (const [overrides, field, chinese] of cases) {
    await client.get('/console/people/new')
    const response = await client.post('/console/people', form(overrides))
    t.is(response.status, 302, field)
    t.is(response.location, '/console/people/new')
    const page = await client.follow(response)
    t.regex(fieldError(page.text, field) ?? '', chinese, field)
    t.false(page.text.includes(wrongCheckDigit), 'the ID number is not refilled from the session')
  }
  t.deepEqual(await counts(), before)
  t.false((await everything()).includes(wrongCheckDigit))

  await client.get('/lang/en?back=/console/people/new')
  for (const [overrides, field, , english] of cases) {
    await client.get('/console/people/new')
    const page = await client.follow(await client.post('/console/people', form(overrides)))
    t.regex(fieldError(page.text, field) ?? '', english, field)
  }
  t.deepEqual(await counts(), before)
})

test.serial('stores a photo outside public/ and serves it only to signed-in staff', async (t) => {
  const { existsSync, readdirSync } = await import('node:fs')
  const { join } = await import('node:path')
  const person = (await findPerson('S2023002'))!
  const client = await signedIn(superAdmin)
  const edit = await client.get(`/console/people/${person.publicId}/edit`)
  t.is(edit.status, 200)
  // A WebP header whose bytes are all ASCII, so the body can be sent as text.
  const image = 'RIFF\u0020\u0000\u0000\u0000WEBPVP8 ' + 'x'.repeat(24)
  const boundary = 'quadtestboundary'
  const fields = {
    ...form({ personNo: 'S2023002', name: '王芳', phone: '', idDocNumber: '', tags: '' }),
    _csrf: client.csrfToken,
  }
  let body = ''
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  }
  const upload = (content: string, filename: string) =>
    client.request('POST', `/console/people/${person.publicId}`, {
      body: `${body}--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="${filename}"\r\nContent-Type: image/webp\r\n\r\n${content}\r\n--${boundary}--\r\n`,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })

  const fake = await upload('just some text, not an image', 'fake.webp')
  t.is(fake.status, 302)
  t.is((await findPerson('S2023002'))!.photoPath, null)

  await client.get(`/console/people/${person.publicId}/edit`)
  const saved = await upload(image, 'me.webp')
  t.is(saved.status, 302)
  const withPhoto = (await findPerson('S2023002'))!
  t.truthy(withPhoto.photoPath)
  t.true(existsSync(join(quad.storage, 'uploads', withPhoto.photoPath!)))
  t.false(readdirSync(new URL('../../public/', import.meta.url)).some((name) => name === 'uploads'))

  const served = await client.get(`/console/people/${person.publicId}/photo`)
  t.is(served.status, 200)
  t.is(served.headers.get('content-type'), 'image/webp')
  const anonymous = await new TestClient(quad.baseUrl).get(
    `/console/people/${person.publicId}/photo`
  )
  t.is(anonymous.status, 302)
  t.is(anonymous.location, '/login')
})

test.serial(
  'upserts by person number for imports and reports every bad field at once',
  async (t) => {
    const { SavePerson, fieldErrorsOf } = await import('#identity/actions/save_person')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const save = new SavePerson()
    const row = {
      personNo: 't90001',
      name: '陈老师',
      identityType: 'teacher' as const,
      orgUnit: { code: 'C04' },
      phone: '020-87654321',
      tags: ['班主任'],
    }
    const first = await save.handle(row, { mode: 'upsert' }, SYSTEM_ACTOR)
    t.true(first.ok && first.value.created)
    const second = await save.handle({ ...row, name: '陈晨' }, { mode: 'upsert' }, SYSTEM_ACTOR)
    t.true(second.ok && !second.value.created)
    t.deepEqual(second.ok && second.value.changed, ['name'])
    const same = await save.handle({ ...row, name: '陈晨' }, { mode: 'upsert' }, SYSTEM_ACTOR)
    t.deepEqual(same.ok && same.value.changed, [], 're-importing the same row changes nothing')
    t.is((await findPerson('T90001'))!.phoneMasked, '020****4321')

    const before = await counts()
    const bad = await save.handle(
      {
        personNo: 'T90002',
        name: '',
        identityType: 'teacher',
        orgUnit: { code: 'NOPE' },
        phone: '999',
        idDocType: 'resident_id',
        idDocNumber: '440106200002291239',
      },
      { mode: 'upsert' },
      SYSTEM_ACTOR
    )
    t.false(bad.ok)
    t.deepEqual(
      fieldErrorsOf(bad)
        .map((error) => `${error.field}:${error.code}`)
        .sort(),
      [
        'idDocNumber:id_check_digit',
        'name:name_length',
        'orgUnit:org_unit_unknown',
        'phone:phone_format',
      ]
    )
    t.deepEqual(await counts(), before)
  }
)
