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

const TREE = [
  '单位代码,单位名称,单位类型,上级单位代码,排序,是否停用',
  'C04,计算机学院,学院,SCMU,4,否',
  'SCMU,华南示范大学,学校,,0,否',
  'C04-2501,计科2501班,班级,C04,0,否',
]

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

function cookies(client: TestClient): string {
  return (client as unknown as { cookieHeader(): string }).cookieHeader()
}

/** Posts a file as multipart/form-data with the client's session and CSRF token. */
async function upload(client: TestClient, bytes: Buffer, fileName: string) {
  const form = new FormData()
  if (client.csrfToken) form.set('_csrf', client.csrfToken)
  form.set('file', new Blob([new Uint8Array(bytes)]), fileName)
  const response = await fetch(`${quad.baseUrl}/console/org/import`, {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers: { cookie: cookies(client), referer: `${quad.baseUrl}/console/org/import` },
  })
  return { status: response.status, location: response.headers.get('location') }
}

async function runJobs() {
  const { runDueJobs } = await import('#appliance/services/jobs')
  const outcomes = await runDueJobs({ workerId: 'test-worker' })
  return outcomes.map((outcome) => [outcome.name, outcome.outcome])
}

async function unitCount() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return Number((await db.from('org_units').count('* as total').first())!.total)
}

function uploadsLeft(): string[] {
  return readdirSync(join(quad.storage, 'uploads', 'imports'))
}

test.serial('refuses the org import to an account without org.write', async (t) => {
  const client = await signedIn(auditor)
  t.is((await client.get('/console/org/import')).status, 403)
  t.is((await client.get('/console/org/import/template/csv')).status, 403)
  t.is((await upload(client, Buffer.from(TREE.join('\n')), 'tree.csv')).status, 403)
  t.is(await unitCount(), 0)
})

test.serial('offers people and org units on the import page and the org page', async (t) => {
  const client = await signedIn(superAdmin)
  const people = await client.get('/console/people/import')
  t.regex(people.text, /data-testid="import-kinds"/)
  t.regex(people.text, /href="\/console\/org\/import"[^>]*data-kind="org_units"/)
  const org = await client.get('/console/org/import')
  t.is(org.status, 200)
  t.regex(org.text, /action="\/console\/org\/import"/)
  t.regex(org.text, /上级单位代码/)
  const tree = await client.get('/console/org')
  t.regex(tree.text, /href="\/console\/org\/import"/)
  t.regex(tree.text, /action="\/console\/org\/export"/)
})

test.serial('checks, confirms and imports a GBK org file through the job queue', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/org/import')
  const response = await upload(client, iconv.encode(TREE.join('\r\n'), 'gbk'), '组织机构.csv')
  t.is(response.status, 302)
  const location = response.location!
  t.regex(location, /^\/console\/imports\/[0-9A-Z]{26}$/)
  const checking = await client.get(location)
  t.regex(checking.text, /data-status="checking"/)
  t.regex(checking.text, /src="\/js\/import_progress.js"/)
  t.deepEqual(await runJobs(), [['identity.check_org_unit_import', 'succeeded']])
  const checked = await client.get(location)
  t.regex(checked.text, /data-status="checked"/)
  t.regex(checked.text, /data-testid="count-created">3</)
  t.regex(checked.text, /href="\/console\/org"/)
  t.is(await unitCount(), 0, 'the dry run wrote nothing')

  await client.post(`${location}/confirm`, {})
  t.deepEqual(await runJobs(), [['identity.import_org_units', 'succeeded']])
  t.like((await client.get(`${location}/progress`)).json(), {
    status: 'succeeded',
    done: 3,
    total: 3,
  })
  t.is(await unitCount(), 3)
  t.deepEqual(uploadsLeft(), [], 'the upload is deleted after the import')
})

test.serial('shows the row errors of an org file in English', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/lang/en')
  await client.get('/console/org/import')
  const bad = [
    'code,name,kind,parent_code',
    'C05,School of Law,college,NOWHERE',
    'C04,Computing,class,SCMU',
  ]
  const response = await upload(client, Buffer.from(bad.join('\n')), 'tree.csv')
  t.deepEqual(await runJobs(), [['identity.check_org_unit_import', 'succeeded']])
  const page = await client.get(response.location!)
  t.regex(page.text, /data-status="refused"/)
  const errors = [
    ...page.text.matchAll(/data-testid="import-error" data-line="(\d+)" data-code="([a-z_]+)"/g),
  ].map((match) => `${match[1]} ${match[2]}`)
  t.deepEqual(errors, ['2 parent_unknown', '3 kind_change'])
  t.regex(page.text, /No unit with this parent code exists/)
  t.notRegex(page.text, /data-testid="import-confirm"/)
  await client.get('/lang/zh-CN')
})

test.serial('exports the tree as XLSX in the template columns, audited', async (t) => {
  const client = await signedIn(superAdmin)
  await client.get('/console/org')
  const response = await fetch(`${quad.baseUrl}/console/org/export`, {
    method: 'POST',
    body: new URLSearchParams({ _csrf: client.csrfToken ?? '', format: 'xlsx' }),
    headers: {
      'cookie': cookies(client),
      'content-type': 'application/x-www-form-urlencoded',
      'referer': `${quad.baseUrl}/console/org`,
    },
  })
  t.is(response.status, 200)
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(await response.arrayBuffer())
  const sheet = workbook.worksheets[0]
  const rows = sheet.getSheetValues().slice(1) as unknown[][]
  t.deepEqual(
    rows.map((row) => row.slice(1)),
    [
      ['单位代码', '单位名称', '单位类型', '上级单位代码', '排序', '是否停用'],
      ['SCMU', '华南示范大学', '学校', '', '0', '否'],
      ['C04', '计算机学院', '学院', 'SCMU', '4', '否'],
      ['C04-2501', '计科2501班', '班级', 'C04', '0', '否'],
    ]
  )
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const entry = await db.from('audit_entries').where('action', 'org.units_exported').first()
  t.like(JSON.parse(entry.meta), { format: 'xlsx', count: 3 })

  const template = await client.get('/console/org/import/template/csv')
  t.is(template.status, 200)
  t.true(template.text.includes('单位代码,单位名称,单位类型,上级单位代码,排序,是否停用'))
})
