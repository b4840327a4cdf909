import test from 'ava'
import { readFileSync } from 'node:fs'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'

let quad: TestApp
let admin: GivenAdmin
let writer: string
let reader: string
let disabled: string
let keyCounter = 0

// A valid mainland resident ID (GB 11643 check digit 8) and one with a wrong check digit.
const ID_NUMBER = '440106200002291238'
const BAD_ID_NUMBER = '440106200002291237'

function nextKey() {
  keyCounter += 1
  return `key-${process.pid}-${keyCounter}`
}

async function call(
  method: string,
  path: string,
  options: {
    token?: string | null
    body?: unknown
    raw?: string
    key?: string | null
    headers?: Record<string, string>
  } = {}
) {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined || options.raw !== undefined)
    headers['content-type'] = 'application/json'
  if (options.key !== null && method !== 'GET')
    headers['idempotency-key'] = options.key ?? nextKey()
  const response = await fetch(quad.baseUrl + path, {
    method,
    headers,
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  }
}

async function auditCount(action: string, subjectId?: string) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const query = db.from('audit_entries').where('action', action)
  if (subjectId) query.where('subject_id', subjectId)
  const row = await query.count('* as total').first()
  return Number(row.total)
}

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { DisableOrgUnit } = await import('#identity/actions/disable_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const { createApiClient, disableApiClient } = await import('#identity/api/api_clients')
  await givenSchool()
  admin = await givenAdmin('super_admin')
  const create = new CreateOrgUnit()
  const unit = async (parent: string | null, kind: any, code: string, name: string) => {
    const result = await create.handle(
      { parent: parent ? { code: parent } : null, kind, code, name },
      SYSTEM_ACTOR
    )
    if (!result.ok) throw new Error(result.error)
    return result.value
  }
  await unit(null, 'school', 'SCMU', '华南示范大学')
  await unit('SCMU', 'college', 'C04', '计算机学院')
  await unit('C04', 'class', 'C04-2301', '计科2301班')
  await unit('SCMU', 'college', 'C05', '外国语学院')
  const closed = await unit('C04', 'class', 'C04-1901', '计科1901班')
  await new DisableOrgUnit().handle({ id: closed.id }, SYSTEM_ACTOR)

  const issue = async (name: string, scopes: any[]) => {
    const result = await createApiClient({ name, scopes }, SYSTEM_ACTOR)
    if (!result.ok) throw new Error(result.error)
    return result.value
  }
  writer = (await issue('教务系统', ['people:read', 'people:write', 'org:read', 'org:write'])).token
  reader = (await issue('一卡通查询', ['people:read'])).token
  const gone = await issue('旧人事系统', ['people:read'])
  await disableApiClient(gone.client.clientId, SYSTEM_ACTOR)
  disabled = gone.token
})

test.after.always(async () => {
  await quad?.close()
})

test('refuses a request without credentials, with a wrong secret or from a disabled client', async (t) => {
  const none = await call('GET', '/api/v1/people')
  t.is(none.status, 401)
  t.is(none.body.error.code, 'unauthorized')
  t.deepEqual(none.body.error.details, [])

  const [clientId] = reader.split('.')
  const wrong = await call('GET', '/api/v1/people', { token: `${clientId}.${'A'.repeat(43)}` })
  t.is(wrong.status, 401)

  t.is((await call('GET', '/api/v1/people', { token: disabled })).status, 401)
  t.is((await call('GET', '/api/v1/people', { token: 'garbage' })).status, 401)
  t.is((await call('GET', '/api/v1/people', { token: reader })).status, 200)
})

test('accepts HTTP Basic with the client id and secret', async (t) => {
  const [clientId, secret] = reader.split('.')
  const basic = Buffer.from(`${clientId}:${secret}`).toString('base64')
  const response = await call('GET', '/api/v1/people', {
    headers: { authorization: `Basic ${basic}` },
  })
  t.is(response.status, 200)
})

test('refuses a write from a client without the scope with 403', async (t) => {
  const response = await call('PUT', '/api/v1/people/S2023001', {
    token: reader,
    body: { name: '张三', identity_type: 'undergraduate', org_unit: 'C04-2301' },
  })
  t.is(response.status, 403)
  t.is(response.body.error.code, 'insufficient_scope')
  t.is((await call('GET', '/api/v1/org-units', { token: reader })).status, 403)
  t.is(await auditCount('people.created'), 0)
})

test('answers malformed JSON with 400 and a missing Idempotency-Key with 400', async (t) => {
  const malformed = await call('PUT', '/api/v1/people/S2023001', {
    token: writer,
    raw: '{"name": ',
  })
  t.is(malformed.status, 400)
  t.is(malformed.body.error.code, 'malformed_json')

  const noKey = await call('PUT', '/api/v1/people/S2023001', {
    token: writer,
    key: null,
    body: { name: '张三', identity_type: 'undergraduate', org_unit: 'C04-2301' },
  })
  t.is(noKey.status, 400)
  t.is(noKey.body.error.code, 'idempotency_key_missing')
  t.is((await call('GET', '/api/v1/people/S2023001', { token: writer })).status, 404)
})

test('refuses invalid fields with 422 and field-level details', async (t) => {
  const response = await call('PUT', '/api/v1/people/S2023009', {
    token: writer,
    body: {
      name: '王五',
      identity_type: 'undergraduate',
      org_unit: 'NOPE',
      id_doc_type: 'resident_id',
      id_doc_number: BAD_ID_NUMBER,
    },
  })
  t.is(response.status, 422)
  t.is(response.body.error.code, 'validation_failed')
  const codes = Object.fromEntries(
    response.body.error.details.map((detail: any) => [detail.field, detail.code])
  )
  t.is(codes.org_unit, 'org_unit_unknown')
  t.is(codes.id_doc_number, 'id_check_digit')

  const typed = await call('PUT', '/api/v1/people/S2023009', {
    token: writer,
    body: { name: '王五', enrollment_year: 'soon' },
  })
  t.is(typed.status, 422)
  t.true(typed.body.error.details.some((detail: any) => detail.field === 'enrollment_year'))
  t.is((await call('GET', '/api/v1/people/S2023009', { token: writer })).status, 404)
})

test('creates a person with PUT, then updates them, and shows only masked PII', async (t) => {
  const created = await call('PUT', '/api/v1/people/s2023100', {
    token: writer,
    body: {
      name: '李雷',
      gender: 'male',
      identity_type: 'undergraduate',
      org_unit: 'C04-2301',
      enrollment_year: 2023,
      phone: '13912345678',
      id_doc_type: 'resident_id',
      id_doc_number: ID_NUMBER,
      tags: ['班长'],
    },
  })
  t.is(created.status, 201)
  t.true(created.body.created)
  const person = created.body.data
  t.is(person.person_no, 'S2023100')
  t.is(person.org_unit.code, 'C04-2301')
  t.is(person.phone_masked, '139****5678')
  t.regex(person.id_doc_masked, /^4401\*+1238$/)
  const serialized = JSON.stringify(created.body)
  t.false(serialized.includes('13912345678'))
  t.false(serialized.includes(ID_NUMBER))
  t.false('phone' in person)

  const updated = await call('PUT', '/api/v1/people/S2023100', {
    token: writer,
    body: { name: '李雷', org_unit: 'C05' },
  })
  t.is(updated.status, 200)
  t.false(updated.body.created)
  t.is(updated.body.data.org_unit.code, 'C05')
  t.is(updated.body.data.phone_masked, '139****5678')

  const patched = await call('PATCH', '/api/v1/people/S2023100', {
    token: writer,
    body: { email: 'lilei@example.edu.cn' },
  })
  t.is(patched.status, 200)
  t.is(patched.body.data.email, 'lilei@example.edu.cn')
  t.is(patched.body.data.org_unit.code, 'C05')
  t.is(
    (await call('PATCH', '/api/v1/people/NOBODY', { token: writer, body: { email: null } })).status,
    404
  )

  const read = await call('GET', '/api/v1/people/S2023100', { token: reader })
  t.is(read.status, 200)
  t.is(read.body.data.name, '李雷')
  t.deepEqual(read.body.data.tags, ['班长'])
  t.false(JSON.stringify(read.body).includes(ID_NUMBER))
})

test('audits every write as the API client', async (t) => {
  const [clientId] = writer.split('.')
  const response = await call('PUT', '/api/v1/people/S2023200', {
    token: writer,
    body: { name: '韩梅梅', identity_type: 'undergraduate', org_unit: 'C04-2301' },
  })
  t.is(response.status, 201)
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const entry = await db
    .from('audit_entries')
    .where('action', 'people.created')
    .where('subject_id', response.body.data.id)
    .first()
  t.is(entry.actor_type, 'api')
  t.is(entry.actor_id, clientId)
  t.is(entry.actor_name, '教务系统')
})

test('replays a retried write with the same key and writes it once', async (t) => {
  const key = nextKey()
  const body = { name: '赵六', identity_type: 'teacher', org_unit: 'C04' }
  const first = await call('PUT', '/api/v1/people/T0001', { token: writer, key, body })
  t.is(first.status, 201)
  const again = await call('PUT', '/api/v1/people/T0001', {
    token: writer,
    key,
    body: { org_unit: 'C04', identity_type: 'teacher', name: '赵六' },
  })
  t.is(again.status, 201)
  t.is(again.headers.get('idempotent-replayed'), 'true')
  t.deepEqual(again.body, first.body)
  t.is(await auditCount('people.created', first.body.data.id), 1)

  const other = await call('PUT', '/api/v1/people/T0001', {
    token: writer,
    key,
    body: { ...body, name: '赵七' },
  })
  t.is(other.status, 409)
  t.is(other.body.error.code, 'idempotency_key_reused')
  t.is((await call('GET', '/api/v1/people/T0001', { token: reader })).body.data.name, '赵六')
  t.is(await auditCount('people.updated', first.body.data.id), 0)
})

test('changes a status with a reason, and refuses a repeated change with 409', async (t) => {
  await call('PUT', '/api/v1/people/S2023300', {
    token: writer,
    body: { name: '孙七', identity_type: 'undergraduate', org_unit: 'C04-2301' },
  })
  const changed = await call('POST', '/api/v1/people/S2023300/status', {
    token: writer,
    body: { status: 'suspended', reason: '休学一年' },
  })
  t.is(changed.status, 200)
  t.is(changed.body.data.status, 'suspended')
  const same = await call('POST', '/api/v1/people/S2023300/status', {
    token: writer,
    body: { status: 'suspended', reason: '再次休学' },
  })
  t.is(same.status, 409)
  const noReason = await call('POST', '/api/v1/people/S2023300/status', {
    token: writer,
    body: { status: 'active' },
  })
  t.is(noReason.status, 422)
  t.true(noReason.body.error.details.some((detail: any) => detail.field === 'reason'))
})

test('lists people with filters and pagination', async (t) => {
  for (let index = 1; index <= 5; index++) {
    const response = await call('PUT', `/api/v1/people/P90${index}`, {
      token: writer,
      body: {
        name: `分页${index}`,
        identity_type: index <= 3 ? 'postgraduate' : 'staff',
        org_unit: index <= 3 ? 'C04-2301' : 'C05',
      },
    })
    t.is(response.status, 201)
  }
  const first = await call('GET', '/api/v1/people?q=P90&per_page=2&page=1', { token: reader })
  t.is(first.status, 200)
  t.deepEqual(
    first.body.data.map((person: any) => person.person_no),
    ['P901', 'P902']
  )
  t.deepEqual(first.body.meta, { page: 1, per_page: 2, total: 5, last_page: 3 })
  const third = await call('GET', '/api/v1/people?q=P90&per_page=2&page=3', { token: reader })
  t.deepEqual(
    third.body.data.map((person: any) => person.person_no),
    ['P905']
  )
  const staff = await call('GET', '/api/v1/people?q=P90&identity_type=staff', { token: reader })
  t.deepEqual(
    staff.body.data.map((person: any) => person.person_no),
    ['P904', 'P905']
  )
  // A college includes the classes below it.
  const inCollege = await call('GET', '/api/v1/people?q=P90&org_unit=C04', { token: reader })
  t.is(inCollege.body.meta.total, 3)
  const bad = await call('GET', '/api/v1/people?status=asleep&per_page=1000', { token: reader })
  t.is(bad.status, 422)
  const unknownUnit = await call('GET', '/api/v1/people?org_unit=NOPE', { token: reader })
  t.is(unknownUnit.status, 422)
  t.is(unknownUnit.body.error.details[0].field, 'org_unit')
})

test('creates, renames and moves org units by code', async (t) => {
  const created = await call('PUT', '/api/v1/org-units/C04-2401', {
    token: writer,
    body: { name: '计科2401班', kind: 'class', parent: 'C04' },
  })
  t.is(created.status, 201)
  t.is(created.body.data.parent, 'C04')
  const renamed = await call('PUT', '/api/v1/org-units/C04-2401', {
    token: writer,
    body: { name: '计算机2401班', kind: 'class', parent: 'C05' },
  })
  t.is(renamed.status, 200)
  t.is(renamed.body.data.name, '计算机2401班')
  t.is(renamed.body.data.parent, 'C05')
  t.is(await auditCount('org.unit_renamed', created.body.data.id), 1)
  t.is(await auditCount('org.unit_moved', created.body.data.id), 1)

  const orphan = await call('PUT', '/api/v1/org-units/X1', {
    token: writer,
    body: { name: '无处', kind: 'class', parent: 'NOPE' },
  })
  t.is(orphan.status, 422)
  t.is(orphan.body.error.details[0].field, 'parent')

  const list = await call('GET', '/api/v1/org-units', { token: writer })
  t.is(list.status, 200)
  t.true(list.body.data.some((unit: any) => unit.code === 'C04-2401' && unit.parent === 'C05'))
  t.true(list.body.data.some((unit: any) => unit.code === 'C04-1901' && unit.disabled))
})

test('does not take a console session as API credentials, nor need a CSRF token', async (t) => {
  const { signIn } = await import('#tests/helpers/fixtures')
  const browser = new TestClient(quad.baseUrl)
  await signIn(browser, admin)
  const withSession = await browser.request('GET', '/api/v1/people', {
    headers: { accept: 'application/json' },
  })
  t.is(withSession.status, 401)
  const write = await browser.request('PUT', '/api/v1/people/S2029999', {
    body: JSON.stringify({ name: '冒名', identity_type: 'visitor', org_unit: 'C04' }),
    headers: { 'content-type': 'application/json', 'idempotency-key': nextKey() },
  })
  t.is(write.status, 401)
  t.is(write.json().error.code, 'unauthorized')

  // Without any CSRF token, a client with credentials writes.
  const api = await call('PUT', '/api/v1/people/S2029998', {
    token: writer,
    body: { name: '访客', identity_type: 'visitor', org_unit: 'C04' },
  })
  t.is(api.status, 201)
})

test('answers an unknown API path with a JSON 404', async (t) => {
  const response = await call('GET', '/api/v1/nothing-here', { token: writer })
  t.is(response.status, 404)
  t.is(response.body.error.code, 'not_found')
})

test('serves the committed OpenAPI document, which describes every /api/v1 route', async (t) => {
  const served = await call('GET', '/api/v1/openapi.json')
  t.is(served.status, 200)
  const committed = JSON.parse(
    readFileSync(new URL('../../docs/api/openapi.json', import.meta.url), 'utf8')
  )
  t.deepEqual(
    served.body,
    committed,
    'regenerate docs/api/openapi.json from app/identity/api/openapi.ts'
  )

  const { default: router } = await import('@adonisjs/core/services/router')
  const routes = Object.values(router.toJSON()).flat()
  const apiRoutes = routes.filter((route) => route.pattern.startsWith('/api/v1/'))
  t.true(apiRoutes.length >= 8)
  for (const route of apiRoutes) {
    const path = route.pattern.slice('/api/v1'.length).replace(/:(\w+)/g, '{$1}')
    for (const method of route.methods.filter((name) => name !== 'HEAD')) {
      t.truthy(
        (committed.paths[path] ?? {})[method.toLowerCase()],
        `${method} ${route.pattern} is not in the OpenAPI document`
      )
    }
  }
})

test('creates, lists and disables clients from the command line, showing the secret once', async (t) => {
  const { runAce, aceEnvironment } = await import('#tests/helpers/ace')
  const env = aceEnvironment(quad)
  const created = await runAce(
    ['api:client-create', '--name', '人事系统', '--scopes', 'people:read,org:read'],
    { env }
  )
  t.is(created.code, 0, created.output)
  const token = /token:\s+(\S+)/.exec(created.output)![1]
  const clientId = token.split('.')[0]
  t.is((await call('GET', '/api/v1/org-units', { token })).status, 200)

  const listed = await runAce(['api:client-list', '--json'], { env })
  t.is(listed.code, 0, listed.output)
  t.false(listed.output.includes(token.split('.')[1]))
  t.true(listed.output.includes(clientId))

  const off = await runAce(['api:client-disable', clientId], { env })
  t.is(off.code, 0, off.output)
  t.is((await call('GET', '/api/v1/org-units', { token })).status, 401)

  const bad = await runAce(['api:client-create', '--name', 'x', '--scopes', 'people:delete'], {
    env,
  })
  t.not(bad.code, 0)
})

test('writes once when the same request races itself under one key', async (t) => {
  const key = nextKey()
  const body = { name: '并发', identity_type: 'staff', org_unit: 'C05' }
  const responses = await Promise.all(
    Array.from({ length: 5 }, () =>
      call('PUT', '/api/v1/people/R0001', { token: writer, key, body })
    )
  )
  for (const response of responses) {
    t.true(
      response.status === 201 || response.body.error?.code === 'idempotency_key_in_progress',
      JSON.stringify(response.body)
    )
  }
  const person = (await call('GET', '/api/v1/people/R0001', { token: reader })).body.data
  t.is(await auditCount('people.created', person.id), 1)
  const replay = await call('PUT', '/api/v1/people/R0001', { token: writer, key, body })
  t.is(replay.status, 201)
  t.is(replay.body.data.id, person.id)
})

test('lets a retry take over a key whose first request never answered', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { DateTime } = await import('luxon')
  const body = { name: '中断', identity_type: 'staff', org_unit: 'C05' }
  const key = nextKey()
  const stuck = await call('PUT', '/api/v1/people/R0002', { token: writer, key, body })
  t.is(stuck.status, 201)
  // As if the process had died after claiming the key, a while ago.
  const format = db.connection().dialect.dateTimeFormat
  await db
    .from('api_idempotency_keys')
    .where('key', key)
    .update({ response_status: null, response_body: null })
  const inProgress = await call('PUT', '/api/v1/people/R0002', { token: writer, key, body })
  t.is(inProgress.status, 409)
  t.is(inProgress.body.error.code, 'idempotency_key_in_progress')
  await db
    .from('api_idempotency_keys')
    .where('key', key)
    .update({ created_at: DateTime.utc().minus({ minutes: 11 }).toFormat(format) })
  const retried = await call('PUT', '/api/v1/people/R0002', { token: writer, key, body })
  t.is(retried.status, 200)
  t.deepEqual(retried.body.changed, [])
  t.is(await auditCount('people.created', retried.body.data.id), 1)
  const replay = await call('PUT', '/api/v1/people/R0002', { token: writer, key, body })
  t.is(replay.headers.get('idempotent-replayed'), 'true')
})
