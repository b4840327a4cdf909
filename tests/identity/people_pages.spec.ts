import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'
import type OrgUnit from '#identity/models/org_unit'

let quad: TestApp
let superAdmin: GivenAdmin
let auditor: GivenAdmin
let people: Person[]
let units: OrgUnit[]

test.before(async () => {
  quad = await bootTestApp()
  const { LoadDemoSchool } = await import('#identity/actions/load_demo_school')
  const { givenAdmin } = await import('#tests/helpers/fixtures')
  const { default: PersonModel } = await import('#identity/models/person')
  const { default: OrgUnitModel } = await import('#identity/models/org_unit')
  const loaded = await new LoadDemoSchool().handle({ people: 60, seed: 42 })
  if (!loaded.ok) throw new Error(loaded.error)
  superAdmin = await givenAdmin('super_admin')
  auditor = await givenAdmin('auditor')
  people = await PersonModel.query().preload('orgUnit')
  units = await OrgUnitModel.query()
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

/** The person numbers listed on a people page, in order. */
function listed(html: string): string[] {
  return [...html.matchAll(/data-testid="person-row" data-person-no="([^"]+)"/g)].map(
    (match) => match[1]
  )
}

/** Every page of a people search, followed through the pager. */
async function allListed(client: TestClient, query: string) {
  const numbers: string[] = []
  for (let page = 1; page < 20; page++) {
    const response = await client.get(`/console/people?${query}&page=${page}`)
    if (response.status !== 200) throw new Error(`status ${response.status}`)
    const rows = listed(response.text)
    numbers.push(...rows)
    if (!response.text.includes('rel="next"')) break
  }
  return numbers
}

const sorted = (values: string[]) => [...values].sort()

test.serial('sends a visitor who is not signed in to the sign-in page', async (t) => {
  const client = new TestClient(quad.baseUrl)
  for (const path of ['/console/org', '/console/people', `/console/people/${people[0].publicId}`]) {
    const response = await client.get(path)
    t.is(response.status, 302, path)
    t.is(response.location, '/login', path)
  }
})

test.serial('refuses the registry to an auditor and hides it from the navigation', async (t) => {
  const client = await signedIn(auditor)
  for (const path of ['/console/org', '/console/people', `/console/people/${people[0].publicId}`]) {
    t.is((await client.get(path)).status, 403, path)
  }
  const dashboard = await client.get('/console')
  t.false(dashboard.text.includes('href="/console/people"'))
  t.false(dashboard.text.includes('href="/console/org"'))
})

test.serial('shows the org tree with head counts that include the units below', async (t) => {
  const client = await signedIn(superAdmin)
  const dashboard = await client.get('/console')
  t.true(dashboard.text.includes('href="/console/people"'))
  t.true(dashboard.text.includes('href="/console/org"'))

  const page = await client.get('/console/org')
  t.is(page.status, 200)
  t.regex(page.text, /组织机构/)
  const totals = new Map(
    [...page.text.matchAll(/data-code="([^"]+)" data-total="(\d+)"/g)].map((match) => [
      match[1],
      Number(match[2]),
    ])
  )
  t.is(totals.size, units.length, 'every unit is in the tree')
  t.is(totals.get('SCMU'), 60)
  for (const unit of units) {
    const expected = people.filter((person) => person.orgUnit.path.startsWith(unit.path)).length
    t.is(totals.get(unit.code), expected, unit.code)
  }
  t.regex(page.text, /计算机科学与工程学院/)
  t.regex(page.text, /计科2301班/)
})

test.serial('lists 50 people a page with their type, unit and status', async (t) => {
  const client = await signedIn(superAdmin)
  const first = await client.get('/console/people')
  t.is(first.status, 200)
  t.is(listed(first.text).length, 50)
  t.regex(first.text, /第 1–50 条，共 60 条/)
  const second = await client.get('/console/people?page=2')
  t.is(listed(second.text).length, 10)
  t.deepEqual(
    sorted([...listed(first.text), ...listed(second.text)]),
    sorted(people.map((person) => person.personNo))
  )
  t.regex(first.text, /本科生/)
})

test.serial(
  'finds people by part of the name, by pinyin initials and by person number',
  async (t) => {
    const client = await signedIn(superAdmin)
    const someone = people.find((person) => person.identityType === 'undergraduate')!

    const byName = await allListed(client, `q=${encodeURIComponent(someone.name.slice(1))}`)
    t.true(byName.includes(someone.personNo))
    t.deepEqual(
      sorted(byName),
      sorted(
        people
          .filter((person) => person.name.includes(someone.name.slice(1)))
          .map((person) => person.personNo)
      )
    )

    const initials = someone.namePinyinInitials.slice(0, 2).toUpperCase()
    const byInitials = await allListed(client, `q=${initials}`)
    t.deepEqual(
      sorted(byInitials),
      sorted(
        people
          .filter(
            (person) =>
              person.namePinyinInitials.startsWith(initials.toLowerCase()) ||
              person.personNo.startsWith(initials)
          )
          .map((person) => person.personNo)
      )
    )
    t.true(byInitials.includes(someone.personNo))

    const byNumber = await allListed(client, 'q=t0000')
    const teachers = people.filter((person) => person.personNo.startsWith('T0000'))
    t.true(teachers.length > 0)
    t.deepEqual(sorted(byNumber), sorted(teachers.map((person) => person.personNo)))

    t.deepEqual(await allListed(client, 'q=%25'), [], 'a LIKE wildcard is searched for literally')
  }
)

test.serial('filters by identity type and status', async (t) => {
  const client = await signedIn(superAdmin)
  const teachers = await allListed(client, 'type=teacher')
  t.deepEqual(
    sorted(teachers),
    sorted(people.filter((p) => p.identityType === 'teacher').map((p) => p.personNo))
  )
  const graduated = await allListed(client, 'status=graduated&type=')
  t.true(graduated.length > 0)
  t.deepEqual(
    sorted(graduated),
    sorted(people.filter((p) => p.status === 'graduated').map((p) => p.personNo))
  )
})

test.serial('filters by an org unit together with every unit below it', async (t) => {
  const client = await signedIn(superAdmin)
  const college = units.find((unit) => unit.code === '04')!
  const inCollege = await allListed(client, `unit=${college.publicId}`)
  const expected = people.filter((person) => person.orgUnit.path.startsWith(college.path))
  t.true(
    expected.some((person) => person.orgUnit.kind === 'class'),
    'people of its classes, several levels down'
  )
  t.true(
    expected.some((person) => person.orgUnit.kind === 'college'),
    'and its teachers'
  )
  t.deepEqual(sorted(inCollege), sorted(expected.map((person) => person.personNo)))

  const aClass = units.find(
    (unit) => unit.kind === 'class' && people.some((person) => person.orgUnitId === unit.id)
  )!
  const inClass = await allListed(client, `unit=${aClass.publicId}&type=undergraduate`)
  t.deepEqual(
    sorted(inClass),
    sorted(people.filter((p) => p.orgUnitId === aClass.id).map((p) => p.personNo))
  )
})

test.serial('answers invalid filters by going back to the whole list', async (t) => {
  const client = await signedIn(superAdmin)
  const response = await client.get('/console/people?type=wizard')
  t.is(response.status, 302)
  t.is(response.location, '/console/people')
  const page = await client.follow(response)
  t.regex(page.text, /筛选条件无效/)
})

test.serial('shows one person with the units above them', async (t) => {
  const client = await signedIn(superAdmin)
  const student = people.find((person) => person.orgUnit.kind === 'class')!
  const page = await client.get(`/console/people/${student.publicId}`)
  t.is(page.status, 200)
  t.true(page.text.includes(student.name))
  t.true(page.text.includes(student.personNo))
  const lineage = /data-testid="person-lineage">([\s\S]*?)<\/dd>/.exec(page.text)![1]
  const names = [...lineage.matchAll(/>([^<]+)<\/a>/g)].map((match) => match[1])
  t.is(names.length, 6, 'school, campus, college, major, grade, class')
  t.is(names[0], '华南示范大学')
  t.is(names[5], student.orgUnit.name)

  t.is((await client.get('/console/people/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status, 404)
  t.is((await client.get('/console/people/not-an-id')).status, 404)
})

test.serial(
  'a demo account signs in with the published password and enrolls its authenticator',
  async (t) => {
    const { totpNow } = await import('#core/services/totp')
    const client = new TestClient(quad.baseUrl)
    await client.get('/login')
    const password = await client.post('/login', {
      username: 'demo-admin',
      password: 'Quad-demo-2026',
    })
    t.is(password.location, '/login/totp')
    const enroll = await client.get('/login/totp')
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(enroll.text)![1]
    const signedInPage = await client.post('/login/totp', { code: totpNow(secret) })
    t.is(signedInPage.location, '/console')
    t.is((await client.get('/console/people')).status, 200)
  }
)

test.serial('speaks English when English is chosen', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/lang/en?back=/console/people')
  const page = await client.get('/console/people?type=undergraduate')
  t.regex(page.text, /Undergraduate/)
  t.regex(page.text, /Person number/)
  const tree = await client.get('/console/org')
  t.regex(tree.text, /60 people/)
})
