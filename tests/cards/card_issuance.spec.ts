/**
 * Bulk issuance from the console: to everyone eligible, to a list (pasted
 * or uploaded), to an audience, and temporary cards with their window. The
 * jobs run as a worker would run them.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'

let quad: TestApp
let admin: GivenAdmin
let people: Map<string, Person>

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople, givenAccount } = await import('./fixtures.js')
  await givenSchool()
  admin = await givenAccount('super_admin')
  people = await givenPeople([
    { no: 'S001', type: 'undergraduate', graduation: '2099-07-01' },
    { no: 'S002', type: 'postgraduate', graduation: '2099-07-01' },
    { no: 'S003', type: 'undergraduate' },
    { no: 'S004', type: 'undergraduate', status: 'graduated' },
    { no: 'S005', type: 'undergraduate', status: 'suspended' },
    { no: 'T001', type: 'teacher' },
    { no: 'T002', type: 'teacher' },
    { no: 'T003', type: 'teacher' },
    { no: 'V001', type: 'visitor' },
    { no: 'V002', type: 'visitor' },
  ])
})

test.after.always(async () => {
  await quad?.close()
})

async function signedIn() {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  return client
}

async function runJobs() {
  const { runDueJobs } = await import('#appliance/services/jobs')
  const outcomes = await runDueJobs({ workerId: 'test-worker' })
  return outcomes.map((outcome) => [outcome.name, outcome.outcome])
}

async function cardsOfType(code: string): Promise<string[]> {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const rows = await db
    .from('cards')
    .join('card_types', 'card_types.id', 'cards.card_type_id')
    .join('people', 'people.id', 'cards.person_id')
    .where('card_types.code', code)
    .whereIn('cards.state', ['pending_activation', 'active', 'frozen'])
    .orderBy('people.person_no')
    .select('people.person_no')
  return rows.map((row) => row.person_no)
}

async function issuance(publicId: string) {
  const { default: CardIssuance } = await import('#cards/models/card_issuance')
  return CardIssuance.findByOrFail('public_id', publicId)
}

test.serial('issues to every eligible person once, even when the form is sent twice', async (t) => {
  const { cardType, auditActions } = await import('./fixtures.js')
  const client = await signedIn()
  const student = await cardType('student')
  const page = await client.get('/console/card-issuances')
  t.is(page.status, 200)
  t.regex(page.text, /data-testid="issuance-form"/)
  const form = { cardType: student.publicId, target: 'eligible' }
  const first = await client.post('/console/card-issuances', form)
  const second = await client.post('/console/card-issuances', form)
  t.is(first.status, 302)
  t.regex(first.location ?? '', /^\/console\/card-issuances\/[0-9A-Z]{26}$/)
  t.not(first.location, second.location)

  const queued = await client.get(first.location!)
  t.regex(queued.text, /data-status="queued"/)
  t.regex(queued.text, /data-import-progress/)
  const progress = (await client.get(`${first.location}/progress`)).json()
  t.deepEqual(progress, { status: 'queued', done: 0, total: 0 })

  t.deepEqual(await runJobs(), [
    ['cards.issue', 'succeeded'],
    ['cards.issue', 'succeeded'],
  ])
  t.deepEqual(await cardsOfType('student'), ['S001', 'S002', 'S003'], 'active students only')
  const one = await issuance(first.location!.split('/').pop()!)
  const two = await issuance(second.location!.split('/').pop()!)
  t.like(one, { status: 'succeeded', totalCount: 3, doneCount: 3, issuedCount: 3, skippedCount: 0 })
  t.like(two, { status: 'succeeded', totalCount: 3, issuedCount: 0, skippedCount: 3 })
  const done = await client.get(first.location!)
  t.regex(done.text, /data-status="succeeded"/)
  t.regex(done.text, /data-testid="count-issued">3</)
  t.notRegex(done.text, /data-import-progress/)

  const actions = await auditActions()
  t.is(actions.filter((action) => action === 'cards.issuance_queued').length, 2)
  t.is(actions.filter((action) => action === 'cards.issuance_finished').length, 2)
  t.is(actions.filter((action) => action === 'cards.issued').length, 1, 'one entry per batch')
})

test.serial('issues to a pasted list and reports the lines it could not serve', async (t) => {
  const { cardType } = await import('./fixtures.js')
  const client = await signedIn()
  const teacher = await cardType('teacher')
  await client.get('/console/card-issuances')
  const response = await client.post('/console/card-issuances', {
    cardType: teacher.publicId,
    target: 'list',
    list: 't001\nT002, NOBODY\nS001\nT001\nbad no!',
  })
  t.is(response.status, 302)
  t.deepEqual(await runJobs(), [['cards.issue', 'succeeded']])
  t.deepEqual(await cardsOfType('teacher'), ['T001', 'T002'])
  const page = await client.get(response.location!)
  t.regex(page.text, /data-testid="count-issued">2</)
  const errors = [
    ...page.text.matchAll(/data-testid="issuance-error" data-line="(\d+)" data-code="([a-z_]+)"/g),
  ].map((match) => [Number(match[1]), match[2]])
  t.deepEqual(errors, [
    [2, 'unknown_person'],
    [3, 'not_eligible'],
    [4, 'duplicate'],
    // "bad no!" is two entries: "BAD" (no such person) and "NO!" (not a person number).
    [5, 'invalid_person_no'],
    [5, 'unknown_person'],
  ])
  t.regex(page.text, /没有这个学工号的人员/)
})

test.serial('issues to an uploaded CSV and refuses a file that is not a list', async (t) => {
  const { cardType, postMultipart } = await import('./fixtures.js')
  const client = await signedIn()
  const teacher = await cardType('teacher')
  await client.get('/console/card-issuances')
  const csv = Buffer.from('姓名,学工号\n测试T003,T003\n测试T001,T001\n')
  const response = await postMultipart(
    client,
    quad.baseUrl,
    '/console/card-issuances',
    { cardType: teacher.publicId, target: 'list' },
    { file: { bytes: csv, name: 'teachers.csv' } }
  )
  t.is(response.status, 302)
  t.regex(response.location ?? '', /card-issuances\/[0-9A-Z]{26}$/)
  t.deepEqual(await runJobs(), [['cards.issue', 'succeeded']])
  t.deepEqual(await cardsOfType('teacher'), ['T001', 'T002', 'T003'])
  const record = await issuance(response.location!.split('/').pop()!)
  t.like(record, { issuedCount: 1, skippedCount: 1, errorCount: 0, sourceName: 'teachers.csv' })

  await client.get('/console/card-issuances')
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
  const refused = await postMultipart(
    client,
    quad.baseUrl,
    '/console/card-issuances',
    { cardType: teacher.publicId, target: 'list' },
    { file: { bytes: png, name: 'list.csv' } }
  )
  t.is(refused.status, 302)
  t.is(refused.location, '/console/card-issuances')
  t.regex((await client.get('/console/card-issuances')).text, /这不是 CSV 或 Excel/)
})

test.serial('issues to an audience, within the eligibility of the type', async (t) => {
  const { cardType } = await import('./fixtures.js')
  const { CreateAudience } = await import('#identity/actions/audience_create')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const audience = await new CreateAudience().handle(
    { type: 'user', name: 'test' },
    { name: '访客名单', rules: { include: ['V001', 'T001', 'S001'] } }
  )
  if (!audience.ok) return t.fail(audience.error)
  const client = await signedIn()
  const visitor = await cardType('visitor')
  await client.get('/console/card-issuances')
  const missingWindow = await client.post('/console/card-issuances', {
    cardType: visitor.publicId,
    target: 'audience',
    audience: audience.value.publicId,
  })
  t.is(missingWindow.location, '/console/card-issuances')
  t.regex((await client.get('/console/card-issuances')).text, /需要填写生效时间和失效时间/)

  const response = await client.post('/console/card-issuances', {
    cardType: visitor.publicId,
    target: 'audience',
    audience: audience.value.publicId,
    validFrom: '2030-05-01T08:00',
    validUntil: '2030-05-03T18:00',
  })
  t.regex(response.location ?? '', /card-issuances\/[0-9A-Z]{26}$/)
  t.deepEqual(await runJobs(), [['cards.issue', 'succeeded']])
  t.deepEqual(
    await cardsOfType('visitor'),
    ['V001'],
    'V002 is not in the audience; T001 is no visitor'
  )
  const card = await db
    .from('cards')
    .where('person_id', people.get('V001')!.id)
    .select('valid_from', 'valid_until')
    .first()
  const { readTime } = await import('#appliance/services/jobs')
  // Times typed in the school's zone (Asia/Shanghai), stored in UTC.
  t.is(readTime(card.valid_from)!.toISO(), '2030-05-01T00:00:00.000Z')
  t.is(readTime(card.valid_until)!.toISO(), '2030-05-03T10:00:00.000Z')
})

test.serial('a card type narrowed by an audience issues only to its members', async (t) => {
  const { cardType } = await import('./fixtures.js')
  const { CreateAudience } = await import('#identity/actions/audience_create')
  const { default: CardType } = await import('#cards/models/card_type')
  const { default: Audience } = await import('#identity/models/audience')
  const audience = await new CreateAudience().handle(
    { type: 'user', name: 'test' },
    { name: '校友会员', rules: { include: ['S004'] } }
  )
  if (!audience.ok) return t.fail(audience.error)
  const { givenPeople } = await import('./fixtures.js')
  await givenPeople([
    { no: 'A001', type: 'alumni' },
    { no: 'A002', type: 'alumni' },
  ])
  const alumni = await cardType('alumni')
  await CardType.query()
    .where('id', alumni.id)
    .update({ audience_id: (await Audience.findByOrFail('public_id', audience.value.publicId)).id })
  await new CreateAudience().handle(
    { type: 'user', name: 'test' },
    { name: 'noop', rules: { include: ['A001'] } }
  )
  const client = await signedIn()
  await client.get('/console/card-issuances')
  await client.post('/console/card-issuances', { cardType: alumni.publicId, target: 'eligible' })
  t.deepEqual(await runJobs(), [['cards.issue', 'succeeded']])
  t.deepEqual(
    await cardsOfType('alumni'),
    [],
    'S004 is in the audience but no alumnus; A001 is no member'
  )
})
