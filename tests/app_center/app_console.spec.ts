import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type { GivenPerson } from '#tests/portal/fixtures'

let quad: TestApp
let admin: GivenAdmin
let console: TestClient

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64'
)

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_PORTAL_LOGIN_RATE_LIMIT: '1000' } })
  const { givenSchool, givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  await givenSchool()
  admin = await givenAdmin('super_admin')
  console = new TestClient(quad.baseUrl)
  await signIn(console, admin)
})

test.after.always(async () => {
  await quad?.close()
})

type Field = string | string[] | { file: Buffer; name: string }

/** Posts the app form as the browser does (multipart, with the CSRF token of the last page). */
async function postForm(client: TestClient, path: string, fields: Record<string, Field>) {
  const form = new FormData()
  if (client.csrfToken) form.set('_csrf', client.csrfToken)
  for (const [name, value] of Object.entries(fields)) {
    if (Array.isArray(value)) for (const item of value) form.append(name, item)
    else if (typeof value === 'string') form.set(name, value)
    else form.set(name, new Blob([new Uint8Array(value.file)]), value.name)
  }
  const cookies = (client as unknown as { cookieHeader(): string }).cookieHeader()
  const response = await fetch(`${quad.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers: { cookie: cookies, referer: client.lastPage ?? quad.baseUrl },
  })
  return {
    status: response.status,
    location: response.headers.get('location'),
    cacheControl: response.headers.get('cache-control'),
    text: await response.text(),
  }
}

const OIDC_APP = {
  nameZh: '教务系统',
  nameEn: 'Academic Affairs',
  category: 'teaching',
  kind: 'oidc',
  launchUrl: 'https://jw.school.edu.cn/login',
  redirectUris: 'https://jw.school.edu.cn/callback\nhttps://jw.school.edu.cn/callback2',
  postLogoutRedirectUris: 'https://jw.school.edu.cn/',
  enabled: '1',
  firstParty: '1',
  tokenEndpointAuthMethod: 'client_secret_basic',
  allowedScopes: ['profile', 'email'],
  grantTypes: ['authorization_code'],
  idTokenAlg: 'RS256',
  sortOrder: '1',
}

async function appRow(name: string) {
  const { default: CampusApp } = await import('#app_center/models/campus_app')
  return CampusApp.findByOrFail('name_zh', name)
}

test('registers an OpenID Connect app with an icon and shows its secret once', async (t) => {
  t.is((await console.get('/console/apps')).status, 200)
  const blank = await console.get('/console/apps/new')
  t.is(blank.status, 200)
  t.regex(blank.text, /data-testid="app-form"/)
  const created = await postForm(console, '/console/apps', {
    ...OIDC_APP,
    icon: { file: PNG, name: 'jw.png' },
  })
  t.is(created.status, 200, created.text.slice(0, 300))
  t.is(created.cacheControl, 'no-store')
  const secret = /data-testid="issued-client-secret">([^<]+)</.exec(created.text)?.[1]
  const clientId = /data-testid="issued-client-id">([^<]+)</.exec(created.text)?.[1]
  t.regex(secret ?? '', /^[A-Za-z0-9_-]{43}$/)
  t.regex(clientId ?? '', /^app_[0-9a-z]{26}$/)

  const app = await appRow('教务系统')
  t.deepEqual(app.redirectUris, [
    'https://jw.school.edu.cn/callback',
    'https://jw.school.edu.cn/callback2',
  ])
  t.deepEqual(app.allowedScopes, ['openid', 'profile', 'email'])
  t.not(app.clientSecretHash, secret)
  const { clientSecretMatches } = await import('#app_center/services/client_secrets')
  t.true(clientSecretMatches(app.clientSecretHash, secret))

  // The secret appears nowhere else: not on the app's page, not in the audit log.
  const page = await console.get(`/console/apps/${app.publicId}`)
  t.is(page.status, 200)
  t.true(page.text.includes(clientId!))
  t.false(page.text.includes(secret!))
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const audit = await db.from('audit_entries').where('subject_id', app.publicId)
  t.deepEqual(
    audit.map((row) => row.action),
    ['apps.created']
  )
  t.false(JSON.stringify(audit).includes(secret!))
  t.false(JSON.stringify(audit).includes(app.clientSecretHash!))

  // The icon is served from the storage root, cacheable for good.
  t.regex(app.iconPath ?? '', /^apps\/[0-9a-f]{32}\.png$/)
  const icon = await fetch(`${quad.baseUrl}/app-icons/${app.iconPath!.slice(5)}`)
  t.is(icon.status, 200)
  t.is(icon.headers.get('content-type'), 'image/png')
  t.regex(icon.headers.get('cache-control') ?? '', /immutable/)
  t.is((await fetch(`${quad.baseUrl}/app-icons/..%2F..%2Fkeys%2Fapp.key`)).status, 404)
})

test('refuses unsafe settings with messages on the fields', async (t) => {
  await console.get('/console/apps/new')
  const { default: CampusApp } = await import('#app_center/models/campus_app')
  const before = (await CampusApp.all()).length

  const wildcard = await postForm(console, '/console/apps', {
    ...OIDC_APP,
    nameZh: '通配回调',
    redirectUris: 'https://*.school.edu.cn/callback',
  })
  t.is(wildcard.status, 302)
  const form = await console.get(wildcard.location!)
  t.regex(form.text, /data-error-for="redirectUris">[^<]*通配符/)

  const cas = await postForm(console, '/console/apps', {
    nameZh: '旧系统',
    category: 'office',
    kind: 'cas',
    casServiceMatch: 'regex',
    casService: '^https://.*\\.school\\.edu\\.cn/.*$',
  })
  t.is(cas.status, 302)
  t.regex((await console.get(cas.location!)).text, /data-error-for="casService"/)

  const prefix = await postForm(console, '/console/apps', {
    nameZh: '前缀',
    category: 'office',
    kind: 'cas',
    casServiceMatch: 'prefix',
    casService: 'https://oa.school.edu.cn',
  })
  t.regex((await console.get(prefix.location!)).text, /data-error-for="casService">[^<]*路径/)

  const svg = await postForm(console, '/console/apps', {
    nameZh: '图标',
    category: 'other',
    kind: 'link',
    launchUrl: 'https://example.edu.cn/',
    icon: { file: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), name: 'x.png' },
  })
  t.regex((await console.get(svg.location!)).text, /data-error-for="icon"/)

  t.is((await CampusApp.all()).length, before)
})

test('edits an app, keeps its kind, and rotates the secret of a confidential client', async (t) => {
  const app = await appRow('教务系统')
  const editing = await console.get(`/console/apps/${app.publicId}/edit`)
  t.is(editing.status, 200)
  t.regex(editing.text, /https:\/\/jw\.school\.edu\.cn\/callback2/)
  const changed = await postForm(console, `/console/apps/${app.publicId}`, {
    ...OIDC_APP,
    kind: 'link',
    nameZh: '教务系统',
  })
  t.regex((await console.get(changed.location!)).text, /data-error-for="kind"/)

  await console.get(`/console/apps/${app.publicId}/edit`)
  const saved = await postForm(console, `/console/apps/${app.publicId}`, {
    ...OIDC_APP,
    nameZh: '教务系统',
    description: '选课、成绩与课表',
  })
  t.is(saved.location, `/console/apps/${app.publicId}`)
  await app.refresh()
  t.is(app.description, '选课、成绩与课表')
  t.truthy(app.iconPath, 'the icon stays when no new one is sent')

  const before = app.clientSecretHash
  await console.get(`/console/apps/${app.publicId}`)
  const rotated = await console.post(`/console/apps/${app.publicId}/rotate-secret`, {})
  t.is(rotated.status, 200)
  t.is(rotated.headers.get('cache-control'), 'no-store')
  const secret = /data-testid="issued-client-secret">([^<]+)</.exec(rotated.text)![1]
  await app.refresh()
  t.not(app.clientSecretHash, before)
  const { clientSecretMatches } = await import('#app_center/services/client_secrets')
  t.true(clientSecretMatches(app.clientSecretHash, secret))

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const actions = (
    await db.from('audit_entries').where('subject_id', app.publicId).orderBy('seq')
  ).map((row) => row.action)
  t.deepEqual(actions, ['apps.created', 'apps.updated', 'apps.credentials_rotated'])
})

test('keeps the app center from accounts without apps.manage', async (t) => {
  const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  const auditor = await givenAdmin('auditor')
  const browser = new TestClient(quad.baseUrl)
  await signIn(browser, auditor)
  t.is((await browser.get('/console/apps')).status, 403)
  t.is((await browser.get('/console/apps/new')).status, 403)
  const app = await appRow('教务系统')
  await browser.get('/console')
  t.is((await browser.post(`/console/apps/${app.publicId}/disable`, {})).status, 403)
  t.is((await browser.post(`/console/apps/${app.publicId}/rotate-secret`, {})).status, 403)
})

test('the service hall shows each person the apps meant for them and counts launches', async (t) => {
  const { givenPerson, portalSignIn } = await import('#tests/portal/fixtures')
  const { default: Audience } = await import('#identity/models/audience')
  const { SaveApp } = await import('#app_center/actions/save_app')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const reader: GivenPerson = await givenPerson({ name: '读者' })
  const other: GivenPerson = await givenPerson({ name: '旁人' })
  const readers = await Audience.create({
    name: '读者',
    rules: {
      version: 1,
      allPeople: false,
      identityTypes: [],
      orgUnits: [],
      statuses: [],
      enrollmentYears: { years: [], from: null, to: null },
      tags: [],
      include: [reader.personNo],
      exclude: [],
    },
    createdBy: null,
  })
  const save = async (input: Record<string, unknown>) => {
    const result = await new SaveApp().handle(
      { category: 'library', kind: 'link', ...input } as never,
      { mode: 'create' },
      SYSTEM_ACTOR
    )
    if (!result.ok) throw new Error(JSON.stringify(result.details))
    return result.value.app
  }
  const everyone = await save({ nameZh: '馆藏查询', launchUrl: 'https://lib.school.edu.cn/' })
  const limited = await save({
    nameZh: '研修间预约',
    launchUrl: 'https://lib.school.edu.cn/rooms',
    audience: readers.publicId,
  })
  const partner = await save({
    nameZh: '合作书店',
    category: 'campus_life',
    launchUrl: 'https://books.example.com/',
    partnerZone: true,
  })
  const disabled = await save({
    nameZh: '旧版门户',
    launchUrl: 'https://old.school.edu.cn/',
    enabled: false,
  })

  const phone = new TestClient(quad.baseUrl)
  await portalSignIn(phone, reader)
  const home = await phone.get('/portal')
  t.regex(home.text, /data-tile="service_hall"[\s\S]*?href="\/portal\/apps"/)
  const hall = await phone.get('/portal/apps')
  t.is(hall.status, 200)
  const shown = [...hall.text.matchAll(/data-testid="hall-app" data-app="([^"]+)"/g)].map(
    (match) => match[1]
  )
  t.true(shown.includes(everyone.publicId))
  t.true(shown.includes(limited.publicId))
  t.true(shown.includes(partner.publicId))
  t.false(shown.includes(disabled.publicId))
  t.regex(hall.text, /data-testid="hall-partners"[\s\S]*合作书店/)
  t.regex(hall.text, /data-category="library"[\s\S]*馆藏查询/)

  const launched = await phone.get(`/portal/apps/${limited.publicId}/launch`)
  t.is(launched.status, 302)
  t.is(launched.location, 'https://lib.school.edu.cn/rooms')
  await phone.get(`/portal/apps/${limited.publicId}/launch`)
  t.is((await phone.get(`/portal/apps/${disabled.publicId}/launch`)).location, '/portal/apps')
  t.is((await phone.get('/portal/apps/01ARZ3NDEKTSV4RRFFQ69G5FAV/launch')).status, 404)

  // Someone outside the audience neither sees nor launches it.
  const stranger = new TestClient(quad.baseUrl)
  await portalSignIn(stranger, other)
  const theirs = await stranger.get('/portal/apps')
  t.false(theirs.text.includes(limited.publicId))
  t.true(theirs.text.includes(everyone.publicId))
  const refused = await stranger.get(`/portal/apps/${limited.publicId}/launch`)
  t.is(refused.location, '/portal/apps')

  // Without a portal session the hall asks to sign in.
  t.is(
    (await new TestClient(quad.baseUrl).get('/portal/apps')).location,
    '/portal/login?next=%2Fportal%2Fapps'
  )

  const { default: AppLaunch } = await import('#app_center/models/app_launch')
  t.is((await AppLaunch.query().where('app_id', limited.id)).length, 2)
  const list = await console.get('/console/apps')
  t.regex(
    list.text,
    new RegExp(`data-app="${limited.publicId}"[\\s\\S]*?data-testid="app-launches-total">2<`)
  )
  const page = await console.get(`/console/apps/${limited.publicId}`)
  t.regex(page.text, /data-testid="app-launch-chart"/)
  t.regex(page.text, /<td>2 次<\/td>/)
})

test('disables and enables an app from the console, audited', async (t) => {
  const app = await appRow('馆藏查询')
  await console.get(`/console/apps/${app.publicId}`)
  const disabled = await console.post(`/console/apps/${app.publicId}/disable`, {})
  t.is(disabled.location, `/console/apps/${app.publicId}`)
  await app.refresh()
  t.false(app.enabled)
  const page = await console.get(`/console/apps/${app.publicId}`)
  t.regex(page.text, /data-testid="app-state">已停用/)
  await console.post(`/console/apps/${app.publicId}/enable`, {})
  await app.refresh()
  t.true(app.enabled)
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const actions = (
    await db.from('audit_entries').where('subject_id', app.publicId).orderBy('seq')
  ).map((row) => row.action)
  t.deepEqual(actions, ['apps.created', 'apps.disabled', 'apps.enabled'])
})
