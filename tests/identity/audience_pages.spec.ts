/**
 * The audience console: list, editor (with and without the live count),
 * detail page, archive, and who may use them.
 */
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
  const loaded = await new LoadDemoSchool().handle({ people: 80, seed: 7 })
  if (!loaded.ok) throw new Error(loaded.error)
  superAdmin = await givenAdmin('super_admin')
  auditor = await givenAdmin('auditor')
  people = await PersonModel.query().preload('orgUnit')
  units = await OrgUnitModel.query()
})

test.after.always(async () => {
  await quad?.close()
})

async function signedIn(admin: GivenAdmin, locale?: string) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  if (locale) client.setCookie('quad_locale', locale)
  return client
}

const college = () => units.find((unit) => unit.kind === 'college')!
const inSubtree = (unit: OrgUnit) => (person: Person) => person.orgUnit.path.startsWith(unit.path)

test.serial('sends a visitor who is not signed in to the sign-in page', async (t) => {
  const client = new TestClient(quad.baseUrl)
  for (const path of ['/console/audiences', '/console/audiences/new']) {
    const response = await client.get(path)
    t.is(response.status, 302, path)
    t.is(response.location, '/login', path)
  }
})

test.serial('refuses audiences to an auditor, the count preview included', async (t) => {
  const client = await signedIn(auditor)
  for (const path of ['/console/audiences', '/console/audiences/new']) {
    t.is((await client.get(path)).status, 403, path)
  }
  await client.get('/console')
  const preview = await client.post(
    '/console/audiences/preview',
    { 'audience[all_people]': 'true' },
    { accept: 'application/json' }
  )
  t.is(preview.status, 403)
  t.false((await client.get('/console')).text.includes('href="/console/audiences"'))
})

test.serial('counts the editor’s rules as JSON, with the form’s CSRF token', async (t) => {
  const client = await signedIn(superAdmin)
  const form = await client.get('/console/audiences/new')
  t.is(form.status, 200)
  t.regex(form.text, /<script src="\/js\/audience.js" defer><\/script>/)
  t.regex(form.text, /尚未计算人数/)

  const unit = college()
  const response = await client.post(
    '/console/audiences/preview',
    {
      'audience[identity_types][]': 'undergraduate',
      'audience[unit_subtree][]': unit.publicId,
      'audience[include]': 'NOPE1, nope2',
    },
    { accept: 'application/json' }
  )
  t.is(response.status, 200)
  const expected = people.filter(
    (person) => person.identityType === 'undergraduate' && inSubtree(unit)(person)
  ).length
  t.true(expected > 0)
  const answer = response.json()
  t.is(answer.count, expected)
  t.is(answer.text, `约 ${expected} 人`)
  t.is(answer.unknownInclude, 2)
  t.is(answer.unknownText, '2 个学工号尚未登记：NOPE1, NOPE2')

  const nobody = await client.post('/console/audiences/preview', {}, { accept: 'application/json' })
  t.is(nobody.json().count, 0)

  const bad = await client.post(
    '/console/audiences/preview',
    { 'audience[year_from]': '2026', 'audience[year_to]': '2020' },
    { accept: 'application/json' }
  )
  t.is(bad.status, 200)
  t.is(bad.json().count, null)
  t.deepEqual(bad.json().issues, {
    enrollmentYears: ['入学年份范围的起始（2026）晚于结束（2020）。'],
  })

  const forged = await client.post(
    '/console/audiences/preview',
    { '_csrf': 'forged', 'audience[all_people]': 'true' },
    { accept: 'application/json' }
  )
  t.not(forged.status, 200)
  t.false(forged.text.includes('"count"'))
})

test.serial('answers the count preview in English for an English reader', async (t) => {
  const client = await signedIn(superAdmin, 'en')
  await client.get('/console/audiences/new')
  const answer = (
    await client.post(
      '/console/audiences/preview',
      { 'audience[all_people]': 'true' },
      { accept: 'application/json' }
    )
  ).json()
  t.is(answer.text, `${people.length} people`)
})

test.serial('counts without JavaScript through the preview button', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/audiences/new')
  const page = await client.post('/console/audiences', {
    'name': '',
    'intent': 'preview',
    'audience[statuses][]': 'active',
  })
  t.is(page.status, 200)
  const active = people.filter((person) => person.status === 'active').length
  t.regex(page.text, new RegExp(`data-testid="audience-count">\\s*约 ${active} 人`))
  t.regex(page.text, /name="audience\[statuses\]\[\]" value="active" checked/)
  const { default: Audience } = await import('#identity/models/audience')
  t.is((await Audience.all()).length, 0, 'a preview saves nothing')
})

test.serial('shows the problems of a form on the same page, as typed', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/audiences/new')
  const page = await client.post('/console/audiences', {
    'name': '',
    'audience[years]': '2024, 20x5',
    'audience[exclude]': 'T001',
  })
  t.is(page.status, 422)
  t.regex(page.text, /data-error-for="name">请填写名称/)
  t.regex(page.text, /data-error-for="enrollmentYears">入学年份的取值无效。/)
  t.regex(page.text, /value="2024, 20x5"/)
  t.regex(page.text, />T001<\/textarea>/)

  const unknownUnit = await client.post('/console/audiences', {
    'name': '某学院',
    'audience[units][]': '01ARZ3NDEKTSV4RRFFQ69G5FAV',
  })
  t.is(unknownUnit.status, 422)
  t.regex(unknownUnit.text, /找不到组织机构：01ARZ3NDEKTSV4RRFFQ69G5FAV。/)
})

test.serial('creates, shows, edits and archives an audience', async (t) => {
  const client = await signedIn(superAdmin)
  const list = await client.get('/console/audiences')
  t.is(list.status, 200)
  t.regex(list.text, /还没有受众/)
  t.true(list.text.includes('href="/console/audiences"'), 'in the navigation')

  await client.get('/console/audiences/new')
  const unit = college()
  const outsider = people.find((person) => !inSubtree(unit)(person))!
  const insider = people.find(
    (person) => inSubtree(unit)(person) && person.identityType === 'teacher'
  )
  const created = await client.post('/console/audiences', {
    'name': '学院教师',
    'description': '测试',
    'intent': 'save',
    'audience[identity_types][]': 'teacher',
    'audience[unit_subtree][]': unit.publicId,
    'audience[include]': outsider.personNo,
    'audience[exclude]': insider?.personNo ?? '',
  })
  t.is(created.status, 302)
  t.regex(created.location!, /^\/console\/audiences\/[0-9A-Z]{26}$/)

  const members = people.filter(
    (person) =>
      person.personNo !== insider?.personNo &&
      ((person.identityType === 'teacher' && inSubtree(unit)(person)) ||
        person.personNo === outsider.personNo)
  )
  const detail = await client.follow(created)
  t.is(detail.status, 200)
  t.regex(detail.text, /受众已创建。/)
  t.regex(detail.text, new RegExp(`data-count="${members.length}"`))
  t.regex(detail.text, new RegExp(`身份类型为教师，且属于${unit.name}（含下级）`))
  t.regex(detail.text, /另包括名单中的 1 人/)
  const listed = [
    ...detail.text.matchAll(/data-testid="audience-member" data-person-no="([^"]+)"/g),
  ]
  t.deepEqual(
    listed.map((match) => match[1]).sort(),
    members.map((person) => person.personNo).sort()
  )

  const path = created.location!
  const edit = await client.get(`${path}/edit`)
  t.is(edit.status, 200)
  t.regex(edit.text, /value="学院教师"/)
  t.regex(
    edit.text,
    new RegExp(`name="audience\\[unit_subtree\\]\\[\\]" value="${unit.publicId}" checked`)
  )
  const updated = await client.post(`${path}?_method=PUT`, {
    'name': '全体在职人员',
    'audience[all_people]': 'true',
    'audience[exclude]': outsider.personNo,
  })
  t.is(updated.status, 302)
  const after = await client.follow(updated)
  t.regex(after.text, new RegExp(`data-count="${people.length - 1}"`))
  t.regex(after.text, /全部人员/)

  const english = await signedIn(superAdmin, 'en')
  const inEnglish = await english.get(path)
  t.regex(inEnglish.text, /All people/)
  t.regex(inEnglish.text, /Except 1 listed person/)

  await client.get(path)
  const archived = await client.post(`${path}/archive`, {})
  t.is(archived.status, 302)
  const frozen = await client.follow(archived)
  t.regex(frozen.text, /受众已归档。/)
  t.false(frozen.text.includes('data-testid="edit-audience"'))
  const refused = await client.get(`${path}/edit`)
  t.is(refused.status, 302)
  t.false((await client.get('/console/audiences')).text.includes('data-testid="audience-row"'))
  t.true(
    (await client.get('/console/audiences?state=archived')).text.includes(
      'data-testid="audience-row"'
    )
  )
})

test.serial('answers 404 for an audience that does not exist', async (t) => {
  const client = await signedIn(superAdmin)
  t.is((await client.get('/console/audiences/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status, 404)
  t.is((await client.get('/console/audiences/01ARZ3NDEKTSV4RRFFQ69G5FAV/edit')).status, 404)
})
