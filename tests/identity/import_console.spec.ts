import test from 'ava'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import ExcelJS from 'exceljs'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'

let quad: TestApp
let superAdmin: GivenAdmin
let auditor: GivenAdmin

const HEADER = '学工号,姓名,性别,身份类型,所属单位代码,入学年份,手机号,证件类型,证件号码'
const GOOD = [
  'T2023201,张伟,男,本科生,C04-2301,2023,13912340001,居民身份证,440106200002291238',
  'T2023202,刘洋,女,研究生,C04-2301,2023,,,',
]

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()
  superAdmin = await givenAdmin('super_admin')
  auditor = await givenAdmin('auditor')
  const create = new CreateOrgUnit()
  const school = await create.handle(
    { parent: null, kind: 'school', code: 'SCMU', name: '华南示范大学' },
    SYSTEM_ACTOR
  )
  if (!school.ok) throw new Error(school.error)
  const unit = await create.handle(
    { parent: { id: school.value.id }, kind: 'class', code: 'C04-2301', name: '计科2301班' },
    SYSTEM_ACTOR
  )
  if (!unit.ok) throw new Error(unit.error)
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

/** Posts a file as multipart/form-data with the client's session and CSRF token. */
async function upload(client: TestClient, bytes: Buffer, fileName: string, csrf = true) {
  const form = new FormData()
  if (csrf && client.csrfToken) form.set('_csrf', client.csrfToken)
  form.set('file', new Blob([new Uint8Array(bytes)]), fileName)
  const cookies = (client as unknown as { cookieHeader(): string }).cookieHeader()
  const response = await fetch(`${quad.baseUrl}/console/people/import`, {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers: { cookie: cookies, referer: `${quad.baseUrl}/console/people/import` },
  })
  return { status: response.status, location: response.headers.get('location') }
}

/** Runs the queued jobs as a worker would; returns their names and outcomes. */
async function runJobs() {
  const { runDueJobs } = await import('#appliance/services/jobs')
  const outcomes = await runDueJobs({ workerId: 'test-worker' })
  return outcomes.map((outcome) => [outcome.name, outcome.outcome])
}

async function people() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return Number((await db.from('people').count('* as total').first())!.total)
}

function uploadsLeft(): string[] {
  return readdirSync(join(quad.storage, 'uploads', 'imports'))
}

test.serial('sends anonymous visitors to the login page and refuses the auditor', async (t) => {
  const anonymous = new TestClient(quad.baseUrl)
  const page = await anonymous.get('/console/people/import')
  t.is(page.status, 302)
  t.regex(page.location ?? '', /\/login$/)

  const client = await signedIn(auditor)
  t.is((await client.get('/console/people/import')).status, 403)
  t.is((await client.get('/console/people/import/template/xlsx')).status, 403)
  await client.get('/console')
  const exported = await client.post('/console/people/export', { format: 'csv' })
  t.is(exported.status, 403)
  t.is((await upload(client, Buffer.from(`${HEADER}\n${GOOD[0]}\n`), 'a.csv')).status, 403)
  t.is(await people(), 0)
})

test.serial('refuses an upload without a CSRF token', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/people/import')
  const response = await upload(client, Buffer.from(`${HEADER}\n${GOOD[0]}\n`), 'a.csv', false)
  t.true([302, 403].includes(response.status), String(response.status))
  t.notRegex(response.location ?? '', /\/console\/imports\//)
  const { default: db } = await import('@adonisjs/lucid/services/db')
  t.is(Number((await db.from('imports').count('* as total').first())!.total), 0)
})

test.serial('explains a file that is not a spreadsheet', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/people/import')
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
  const response = await upload(client, png, 'photo.csv')
  t.is(response.status, 302)
  t.is(response.location, '/console/people/import')
  const page = await client.get('/console/people/import')
  t.regex(page.text, /这不是 CSV 或 Excel/)
  t.deepEqual(uploadsLeft(), [])
})

test.serial('lets the user map unrecognised columns, then checks and imports', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/people/import')
  const file = Buffer.from('No.,名字,类别,班级\nT2023301,赵云,本科生,C04-2301\n')
  const response = await upload(client, file, 'a.csv')
  const location = response.location!
  const page = await client.get(location)
  t.regex(page.text, /data-status="unmapped"/)
  t.regex(page.text, /缺少必需的列：学工号、姓名、身份类型、所属单位代码/)
  t.regex(page.text, /无法识别的列（将被忽略）：No\.、名字、类别、班级/)
  t.regex(page.text, /data-testid="import-mapping"/)
  t.deepEqual(await runJobs(), [], 'nothing is checked before the mapping')
  t.is(uploadsLeft().length, 1, 'the upload waits for the mapping')

  const partial = await client.post(`${location}/mapping`, {
    'columns[0]': 'person_no',
    'columns[1]': 'name',
  })
  t.is(partial.status, 302)
  const still = await client.get(location)
  t.regex(still.text, /data-status="unmapped"/)
  t.regex(still.text, /仍有必需的字段没有对应的列/)
  t.regex(still.text, /缺少必需的列：身份类型、所属单位代码/)

  const mapped = await client.post(`${location}/mapping`, {
    'columns[0]': 'person_no',
    'columns[1]': 'name',
    'columns[2]': 'identity_type',
    'columns[3]': 'org_unit_code',
  })
  t.is(mapped.status, 302)
  t.regex((await client.get(location)).text, /data-status="checking"/)
  t.deepEqual(await runJobs(), [['identity.check_people_import', 'succeeded']])
  t.regex((await client.get(location)).text, /data-status="checked"/)
  await client.post(`${location}/confirm`, {})
  t.deepEqual(await runJobs(), [['identity.import_people', 'succeeded']])
  const { default: Person } = await import('#identity/models/person')
  const person = await Person.findByOrFail('person_no', 'T2023301')
  t.is(person.name, '赵云')
  t.deepEqual(uploadsLeft(), [])
  await person.delete()
})

test.serial('shows every row error of a dry run in Chinese and imports nothing', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/people/import')
  const bad = [
    HEADER,
    GOOD[0],
    'T2023203,王五,男,本科生,C04-2301,2023,,居民身份证,440106200002291239',
    GOOD[0],
  ]
  const response = await upload(client, iconv.encode(bad.join('\r\n'), 'gbk'), '人员.csv')
  t.is(response.status, 302)
  t.regex((await client.get(response.location!)).text, /data-status="checking"/)
  t.deepEqual(await runJobs(), [['identity.check_people_import', 'succeeded']])
  const page = await client.get(response.location!)
  t.regex(page.text, /data-status="refused"/)
  const errors = [
    ...page.text.matchAll(/data-testid="import-error" data-line="(\d+)" data-code="([a-z_]+)"/g),
  ].map((match) => `${match[1]} ${match[2]}`)
  t.deepEqual(errors, ['3 id_check_digit', '4 duplicate_in_file'])
  t.regex(page.text, /身份证号码校验码不正确/)
  t.regex(page.text, /<td>证件号码<\/td>/)
  t.notRegex(page.text, /data-testid="import-confirm"/)
  t.is(await people(), 0)
  t.deepEqual(uploadsLeft(), [])
})

test.serial('checks, confirms and imports a GBK file through the job queue', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/people/import')
  const response = await upload(
    client,
    iconv.encode([HEADER, ...GOOD].join('\r\n'), 'gbk'),
    '人员.csv'
  )
  const location = response.location!
  t.regex(location, /^\/console\/imports\/[0-9A-Z]{26}$/)
  const checking = await client.get(location)
  t.regex(checking.text, /data-status="checking"/)
  t.regex(checking.text, /src="\/js\/import_progress.js"/)
  t.like((await client.get(`${location}/progress`)).json(), { status: 'checking', total: 2 })
  t.deepEqual(await runJobs(), [['identity.check_people_import', 'succeeded']])
  const checked = await client.get(location)
  t.regex(checked.text, /data-status="checked"/)
  t.regex(checked.text, /data-testid="count-created">2</)
  t.is(await people(), 0, 'the dry run wrote nobody')
  t.is(uploadsLeft().length, 1, 'the upload waits for the confirmation')

  const confirmed = await client.post(`${location}/confirm`, {})
  t.is(confirmed.status, 302)
  const queued = await client.get(location)
  t.regex(queued.text, /data-status="queued"/)
  t.regex(queued.text, /src="\/js\/import_progress.js"/)
  t.like((await client.get(`${location}/progress`)).json(), { status: 'queued', total: 2 })

  t.deepEqual(await runJobs(), [['identity.import_people', 'succeeded']])
  t.like((await client.get(`${location}/progress`)).json(), {
    status: 'succeeded',
    done: 2,
    total: 2,
  })
  const done = await client.get(location)
  t.regex(done.text, /data-status="succeeded"/)
  t.is(await people(), 2)
  t.deepEqual(uploadsLeft(), [], 'the upload is deleted after the import')

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const summary = await db
    .from('audit_entries')
    .where('action', 'people.imported')
    .orderBy('seq', 'desc')
    .first()
  t.like(JSON.parse(summary.meta), { total: 2, created: 2 })

  const again = await client.post(`${location}/confirm`, {})
  t.is(again.status, 302)
  t.deepEqual(await runJobs(), [], 'a second confirm queues nothing')
})

test.serial('exports masked by default and full numbers only when asked, audited', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const client = await signedIn(superAdmin)
  await client.get('/console/people')
  const masked = await client.post('/console/people/export', { format: 'csv', q: '' })
  t.is(masked.status, 200)
  t.regex(masked.headers.get('content-type') ?? '', /text\/csv/)
  t.true(masked.text.includes('139****0001'))
  t.false(masked.text.includes('13912340001'))
  t.true(masked.text.startsWith('\uFEFF') || masked.text.startsWith('学工号'))

  await client.get('/console/people')
  const full = await client.post('/console/people/export', { format: 'csv', revealPii: '1' })
  t.true(full.text.includes('13912340001'))
  t.true(full.text.includes('440106200002291238'))
  const entry = await db.from('audit_entries').where('action', 'people.exported_with_pii').first()
  t.truthy(entry)
  t.false(JSON.stringify(entry).includes('13912340001'))

  await client.get('/console/people?type=postgraduate')
  const filtered = await client.post('/console/people/export', {
    format: 'csv',
    type: 'postgraduate',
  })
  t.true(filtered.text.includes('T2023202'))
  t.false(filtered.text.includes('T2023201'))
})

test.serial('serves the XLSX template with the import headers and an example row', async (t) => {
  const client = await signedIn(superAdmin)
  const response = await fetch(`${quad.baseUrl}/console/people/import/template/xlsx`, {
    headers: { cookie: (client as unknown as { cookieHeader(): string }).cookieHeader() },
  })
  t.is(response.status, 200)
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(await response.arrayBuffer())
  const sheet = workbook.worksheets[0]
  t.is(sheet.getRow(1).getCell(1).value, '学工号')
  t.is(sheet.getRow(2).getCell(1).value, 'S2025001')
  t.is(sheet.rowCount, 2)
})
