import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'

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

const listPeople = (token: string) =>
  fetch(`${quad.baseUrl}/api/v1/people`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  })

test('creates a client from the console, shows its token once, and disables it', async (t) => {
  const { signIn } = await import('#tests/helpers/fixtures')
  const browser = new TestClient(quad.baseUrl)
  await signIn(browser, superAdmin)
  t.is((await browser.get('/console/api-clients')).status, 200)

  const created = await browser.post('/console/api-clients', {
    name: '教务系统',
    scopes: 'people:read',
  })
  t.is(created.status, 200)
  const token = /data-testid="issued-token">([^<]+)</.exec(created.text)![1]
  const [clientId, secret] = token.split('.')
  t.is((await listPeople(token)).status, 200)

  // The list shows the client but never the secret again.
  const page = await browser.get('/console/api-clients')
  t.true(page.text.includes(clientId))
  t.false(page.text.includes(secret))

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const audit = await db.from('audit_entries').where('action', 'api.client_created').first()
  t.is(audit.subject_id, clientId)
  t.false(JSON.stringify(audit).includes(secret))

  const disabled = await browser.post(`/console/api-clients/${clientId}/disable`, {})
  t.is(disabled.status, 302)
  t.is((await listPeople(token)).status, 401)
})

test('refuses a client without scopes', async (t) => {
  const { signIn } = await import('#tests/helpers/fixtures')
  const browser = new TestClient(quad.baseUrl)
  await signIn(browser, superAdmin)
  await browser.get('/console/api-clients')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const before = Number((await db.from('api_clients').count('* as total').first()).total)
  const refused = await browser.post('/console/api-clients', { name: '无权限' })
  t.is(refused.status, 302)
  const after = Number((await db.from('api_clients').count('* as total').first()).total)
  t.is(after, before)
})

test('keeps the API clients screen from roles without api_clients.manage', async (t) => {
  const { signIn } = await import('#tests/helpers/fixtures')
  const browser = new TestClient(quad.baseUrl)
  await signIn(browser, auditor)
  t.is((await browser.get('/console/api-clients')).status, 403)
  await browser.get('/console')
  const post = await browser.post('/console/api-clients', { name: 'x', scopes: 'people:read' })
  t.is(post.status, 403)
})
