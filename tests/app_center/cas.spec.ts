import test from 'ava'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TestClient, type TestResponse } from '#tests/helpers/http'
import type { GivenPerson } from '#tests/portal/fixtures'
import { bootOidcTestApp, browse, follow, type OidcTestApp } from './helpers.js'

/**
 * Quad's CAS server end to end: a browser (TestClient) signs in through
 * /cas/login, and a local HTTP server plays the campus app that validates
 * tickets and receives single-logout messages.
 */

let quad: OidcTestApp
let person: GivenPerson
let appServer: Server
/** The CAS app's address, e.g. http://127.0.0.1:40123 */
let appBase: string
/** Single-logout messages the app received, by path. */
const logoutsReceived: { path: string; logoutRequest: string }[] = []

function handleApp(request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    const path = request.url ?? '/'
    // An app that never answers: single logout must not wait for it for long.
    if (path.startsWith('/slow/')) return
    if (request.method === 'POST') {
      const form = new URLSearchParams(Buffer.concat(chunks).toString())
      logoutsReceived.push({ path, logoutRequest: form.get('logoutRequest') ?? '' })
    }
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.end('ok')
  })
}

test.before(async () => {
  quad = await bootOidcTestApp()
  appServer = createServer(handleApp)
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve))
  appBase = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const { givenPerson } = await import('#tests/portal/fixtures')
  person = await givenPerson({ name: '林晓雨', email: 'lin@example.edu.cn' })
})

test.after.always(async () => {
  appServer?.closeAllConnections()
  await new Promise<void>((resolve) => (appServer ? appServer.close(() => resolve()) : resolve()))
  await quad?.close()
})

let appCounter = 0

/** Registers a CAS app through the same action as the console. */
async function givenCasApp(
  service: string,
  options: { match?: 'exact' | 'prefix' | 'regex'; audience?: string | null } = {}
) {
  const { SaveApp } = await import('#app_center/actions/save_app')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  appCounter += 1
  const result = await new SaveApp().handle(
    {
      nameZh: `协同办公${appCounter}`,
      category: 'office',
      kind: 'cas',
      casService: service,
      casServiceMatch: options.match ?? 'exact',
      audience: options.audience ?? null,
    },
    { mode: 'create' },
    SYSTEM_ACTOR
  )
  if (!result.ok) throw new Error(`app not saved: ${JSON.stringify(result.details)}`)
  return result.value.app
}

async function signedInBrowser(who: GivenPerson = person) {
  const { portalSignIn } = await import('#tests/portal/fixtures')
  const browser = new TestClient(quad.baseUrl)
  await portalSignIn(browser, who)
  return browser
}

const loginPath = (service: string, extra = '') =>
  `/cas/login?service=${encodeURIComponent(service)}${extra}`

/** Signs in through /cas/login and returns the ticket the app receives. */
async function ticketFor(browser: TestClient, service: string, extra = ''): Promise<string> {
  const journey = await browse(browser, quad.baseUrl, loginPath(service, extra))
  if (!journey.left) throw new Error(`no redirect to the app: ${journey.response.status}`)
  const ticket = journey.left.searchParams.get('ticket')
  if (!ticket) throw new Error(`no ticket in ${journey.left.href}`)
  return ticket
}

async function validate(
  endpoint: string,
  params: Record<string, string>
): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`${quad.baseUrl}${endpoint}?${new URLSearchParams(params)}`)
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  }
}

/** The code of an XML authenticationFailure, or null. */
const failureCode = (xml: string) =>
  /<cas:(?:authentication|proxy)Failure code="([A-Z_]+)">/.exec(xml)?.[1] ?? null

async function ticketRow(ticket: string) {
  const { ticketDigest } = await import('#app_center/services/cas_tickets')
  const { default: CasTicket } = await import('#app_center/models/cas_ticket')
  return CasTicket.findByOrFail('ticket_hash', ticketDigest(ticket))
}

test('a signed-in person gets a single-use service ticket that CAS 2.0 validation turns into their number', async (t) => {
  const service = `${appBase}/oa/login`
  const app = await givenCasApp(service)
  const browser = await signedInBrowser()
  const response = await browser.get(loginPath(service))
  t.is(response.status, 302)
  const destination = new URL(response.location!)
  t.is(`${destination.origin}${destination.pathname}`, service)
  const ticket = destination.searchParams.get('ticket')!
  t.regex(ticket, /^ST-[\w-]{43}$/, '256 random bits')

  const row = await ticketRow(ticket)
  t.not(row.ticketHash, ticket)
  t.false(JSON.stringify(row.$attributes).includes(ticket), 'the ticket is not stored in clear')
  const lifetime = row.expiresAt.diff(row.createdAt).as('seconds')
  t.true(lifetime >= 10 && lifetime <= 60)

  const first = await validate('/cas/serviceValidate', { ticket, service })
  t.is(first.status, 200)
  t.regex(first.type, /application\/xml/)
  t.regex(first.text, /<cas:serviceResponse xmlns:cas="http:\/\/www\.yale\.edu\/tp\/cas">/)
  t.regex(first.text, new RegExp(`<cas:user>${person.personNo}</cas:user>`))
  t.false(first.text.includes('<cas:attributes>'), 'CAS 2.0 releases the user only')

  const again = await validate('/cas/serviceValidate', { ticket, service })
  t.is(failureCode(again.text), 'INVALID_TICKET')
  t.regex(again.text, /already been used/)

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const launches = await db.from('app_launches').where('app_id', app.id).count('* as total')
  t.is(Number(launches[0].total), 1)
  const { auditOf } = await import('#tests/portal/fixtures')
  const audit = await auditOf(app.publicId)
  t.true(audit.some((entry) => entry.action === 'apps.cas_sign_in' && entry.actorType === 'person'))
})

test('CAS 3.0 validation releases the attributes, in XML and in JSON', async (t) => {
  const service = `${appBase}/jw/cas?lang=zh`
  await givenCasApp(service)
  const browser = await signedInBrowser()
  const ticket = await ticketFor(browser, service)
  t.true(ticket.startsWith('ST-'))
  const xml = await validate('/cas/p3/serviceValidate', { ticket, service })
  t.regex(xml.text, new RegExp(`<cas:user>${person.personNo}</cas:user>`))
  t.regex(xml.text, /<cas:name>林晓雨<\/cas:name>/)
  t.regex(xml.text, new RegExp(`<cas:personNo>${person.personNo}</cas:personNo>`))
  t.regex(xml.text, /<cas:identityType>undergraduate<\/cas:identityType>/)
  t.regex(xml.text, /<cas:orgUnitPath>[^<]+<\/cas:orgUnitPath>/)
  t.regex(xml.text, /<cas:email>lin@example\.edu\.cn<\/cas:email>/)
  t.regex(xml.text, /<cas:isFromNewLogin>false<\/cas:isFromNewLogin>/)
  t.false(xml.text.includes('<cas:phone>'), 'no phone without the phone scope')

  const second = await ticketFor(browser, service)
  const json = await validate('/cas/p3/serviceValidate', {
    ticket: second,
    service,
    format: 'JSON',
  })
  t.regex(json.type, /application\/json/)
  const body = JSON.parse(json.text)
  const success = body.serviceResponse.authenticationSuccess
  t.is(success.user, person.personNo)
  t.is(success.attributes.name, '林晓雨')
  t.is(success.attributes.identityType, 'undergraduate')
  t.is(success.attributes.email, 'lin@example.edu.cn')
})

test('a browser without a portal session signs in on the portal and comes back with a ticket', async (t) => {
  const service = `${appBase}/library/login`
  await givenCasApp(service)
  const browser = new TestClient(quad.baseUrl)
  const start = await browser.get(loginPath(service))
  t.is(start.status, 302)
  t.regex(start.location!, /^\/portal\/login\?next=%2Fportal%2Fcas%2F/)
  const next = decodeURIComponent(start.location!.split('next=')[1])

  const { postSignIn } = await import('#tests/portal/fixtures')
  await browser.get(start.location!)
  const signedIn = await postSignIn(browser, person.personNo, person.password, { next })
  t.is(signedIn.location, next)
  const journey = await follow(browser, quad.baseUrl, signedIn)
  t.truthy(journey.left, `stopped at ${journey.response.status}`)
  t.is(journey.left!.origin + journey.left!.pathname, service)
  const ticket = journey.left!.searchParams.get('ticket')!
  const answer = await validate('/cas/p3/serviceValidate', { ticket, service })
  t.regex(answer.text, /<cas:isFromNewLogin>true<\/cas:isFromNewLogin>/)
})

test('a return path is good once, in the browser that started the sign-in', async (t) => {
  const service = `${appBase}/once/login`
  await givenCasApp(service)
  const starter = new TestClient(quad.baseUrl)
  const start = await starter.get(loginPath(service))
  const next = decodeURIComponent(start.location!.split('next=')[1])

  const other = await signedInBrowser()
  const elsewhere = await other.get(next)
  t.is(elsewhere.status, 400, 'another browser cannot use it')
  t.regex(elsewhere.text, /data-error="request_expired"/)
  const made = await other.get('/portal/cas/AAAAAAAAAAAAAAAAAAAAAA')
  t.is(made.status, 400)

  const { postSignIn } = await import('#tests/portal/fixtures')
  await postSignIn(starter, person.personNo, person.password, { next })
  const used = await starter.get(next)
  t.is(used.status, 200)
  t.regex(used.headers.get('refresh') ?? '', /ticket=ST-/)
  const replay = await starter.get(next)
  t.is(replay.status, 400, 'used once')
})

test('gateway=true sends a signed-out browser back to the service without a ticket', async (t) => {
  const service = `${appBase}/news/`
  await givenCasApp(service)
  const browser = new TestClient(quad.baseUrl)
  const response = await browser.get(loginPath(service, '&gateway=true'))
  t.is(response.status, 302)
  t.is(response.location, service)

  const signedIn = await signedInBrowser()
  const ticket = await ticketFor(signedIn, service, '&gateway=true')
  t.true(ticket.startsWith('ST-'), 'a signed-in person still gets a ticket')

  const unknown = await browser.get(loginPath(`${appBase}/not-registered/`, '&gateway=true'))
  t.is(unknown.status, 400)
  t.is(unknown.location, null)
})

test('renew=true forces a fresh sign-in, and only such tickets pass validation with renew=true', async (t) => {
  const service = `${appBase}/finance/login`
  await givenCasApp(service)
  const browser = await signedInBrowser()
  const plain = await ticketFor(browser, service)
  const refused = await validate('/cas/serviceValidate', { ticket: plain, service, renew: 'true' })
  t.is(failureCode(refused.text), 'INVALID_TICKET')

  const { sessionsOf, postSignIn } = await import('#tests/portal/fixtures')
  const before = (await sessionsOf(person.person))[0]
  const start = await browser.get(loginPath(service, '&renew=true'))
  t.is(start.status, 302)
  t.regex(start.location!, /^\/portal\/login\?next=/)
  const ended = (await sessionsOf(person.person)).find((session) => session.id === before.id)!
  t.truthy(ended.endedAt, 'the old portal session has ended')
  const again = await browser.get('/portal')
  t.is(again.status, 302, 'the browser is signed out')

  const next = decodeURIComponent(start.location!.split('next=')[1])
  const signedIn = await postSignIn(browser, person.personNo, person.password, { next })
  const journey = await follow(browser, quad.baseUrl, signedIn)
  const ticket = journey.left!.searchParams.get('ticket')!
  const accepted = await validate('/cas/serviceValidate', { ticket, service, renew: 'true' })
  t.regex(accepted.text, /<cas:authenticationSuccess>/)
})

test('an unregistered service gets an error page and never a redirect, whatever its disguise', async (t) => {
  const host = new URL(appBase).host
  const port = Number(new URL(appBase).port)
  const service = `${appBase}/exact/login`
  await givenCasApp(service)
  await givenCasApp(`${appBase}/prefixed/`, { match: 'prefix' })
  await givenCasApp(`^http://127\\.0\\.0\\.1:${port}/(cas|sso)/[a-z]+$`, { match: 'regex' })
  const browser = await signedInBrowser()

  for (const good of [service, `${appBase}/prefixed/a/b?x=1`, `${appBase}/sso/login`]) {
    const response = await browser.get(loginPath(good))
    t.is(response.status, 302, good)
    t.true(response.location!.startsWith(`${good}${good.includes('?') ? '&' : '?'}ticket=ST-`))
  }

  const bad = [
    `${service}/extra`,
    `${service}/`,
    `${service}?next=http://evil.example/`,
    `${service}#fragment`,
    `https://${host}/exact/login`,
    `http://127.0.0.2:${port}/exact/login`,
    `http://127.0.0.1:${port + 1}/exact/login`,
    `http://user@${host}/exact/login`,
    `http://${host}@evil.example/exact/login`,
    `http://evil.example/${host}/exact/login`,
    `http://${host}/exact%2Flogin`,
    `http://${host}/exact/login%3Fx`,
    `http://${host}/EXACT/login`,
    `http://${host}\\@evil.example/exact/login`,
    ` ${service}`,
    `${appBase}/prefixed`,
    `http://${host}.evil.example/prefixed/`,
    `http://${host}@evil.example/prefixed/`,
    `${appBase}/sso/login/more`,
    `${appBase}/sso/LOGIN`,
    `${appBase}/other/login`,
    'javascript:alert(1)',
    '//evil.example/exact/login',
  ]
  for (const disguised of bad) {
    const response = await browser.get(loginPath(disguised))
    t.is(response.status, 400, disguised)
    t.is(response.location, null, disguised)
    t.regex(response.text, /data-error="unknown_service"/, disguised)
  }
})

test('a person outside the audience is refused, and a disabled app is unknown', async (t) => {
  const { givenPerson } = await import('#tests/portal/fixtures')
  const { default: Audience } = await import('#identity/models/audience')
  const member = await givenPerson({ name: '受众成员' })
  const audience = await Audience.create({
    name: 'CAS 限定',
    rules: {
      version: 1,
      allPeople: false,
      identityTypes: [],
      orgUnits: [],
      statuses: [],
      enrollmentYears: { years: [], from: null, to: null },
      tags: [],
      include: [member.personNo],
      exclude: [],
    },
    createdBy: null,
  })
  const service = `${appBase}/restricted/login`
  const app = await givenCasApp(service, { audience: audience.publicId })
  const outsider = await signedInBrowser()
  const refused = await outsider.get(loginPath(service))
  t.is(refused.status, 403)
  t.regex(refused.text, /data-error="access_denied"/)
  const insider = await signedInBrowser(member)
  t.true((await ticketFor(insider, service)).startsWith('ST-'))

  const pending = await ticketFor(insider, service)
  const { SetAppEnabled } = await import('#app_center/actions/set_app_enabled')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  t.true((await new SetAppEnabled().handle(app.publicId, false, SYSTEM_ACTOR)).ok)
  const disabled = await insider.get(loginPath(service))
  t.is(disabled.status, 400)
  t.regex(disabled.text, /data-error="unknown_service"/)
  const late = await validate('/cas/serviceValidate', { ticket: pending, service })
  t.is(failureCode(late.text), 'INVALID_SERVICE')
})

test('validation refuses missing parameters, unknown, expired and misdirected tickets', async (t) => {
  const service = `${appBase}/dorm/login`
  const other = `${appBase}/dorm/other`
  const app = await givenCasApp(service)
  await givenCasApp(other)
  const browser = await signedInBrowser()

  t.is(failureCode((await validate('/cas/serviceValidate', { service })).text), 'INVALID_REQUEST')
  t.is(
    failureCode((await validate('/cas/serviceValidate', { ticket: 'ST-x' })).text),
    'INVALID_REQUEST'
  )
  const unknown = await validate('/cas/serviceValidate', { ticket: 'ST-unknown', service })
  t.is(failureCode(unknown.text), 'INVALID_TICKET')
  t.regex(unknown.text, /not recognized/)

  const misdirected = await ticketFor(browser, service)
  const wrong = await validate('/cas/serviceValidate', { ticket: misdirected, service: other })
  t.is(failureCode(wrong.text), 'INVALID_SERVICE')
  const retry = await validate('/cas/serviceValidate', { ticket: misdirected, service })
  t.is(failureCode(retry.text), 'INVALID_TICKET', 'the first attempt spent the ticket')

  const stale = await ticketFor(browser, service)
  const row = await ticketRow(stale)
  row.expiresAt = row.createdAt.minus({ seconds: 1 })
  await row.save()
  const expired = await validate('/cas/p3/serviceValidate', { ticket: stale, service })
  t.is(failureCode(expired.text), 'INVALID_TICKET')
  t.regex(expired.text, /expired/)

  const json = await validate('/cas/serviceValidate', {
    ticket: 'ST-unknown',
    service,
    format: 'json',
  })
  const failure = JSON.parse(json.text).serviceResponse.authenticationFailure
  t.is(failure.code, 'INVALID_TICKET')
  t.regex(failure.description, /not recognized/)

  const escaped = await validate('/cas/serviceValidate', { ticket: 'ST-<x>&"', service })
  t.false(escaped.text.includes('<x>'), 'the ticket is escaped in XML')

  // Real tickets refused are recorded against the app; made-up ones are not.
  const { auditOf } = await import('#tests/portal/fixtures')
  const refusals = (await auditOf(app.publicId))
    .filter((entry) => entry.action === 'apps.cas_validation_refused')
    .map((entry) => (entry.meta as { reason: string }).reason)
    .sort()
  t.deepEqual(refusals, ['expired', 'other_service', 'used'])
})

test('validation by an app server stores no session for it', async (t) => {
  const service = `${appBase}/library/login`
  await givenCasApp(service)
  const browser = await signedInBrowser()
  const ticket = await ticketFor(browser, service)
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const count = async () => Number((await db.from('sessions').count('* as total'))[0].total)
  const before = await count()
  const answer = await validate('/cas/p3/serviceValidate', { ticket, service })
  t.regex(answer.text, /<cas:authenticationSuccess>/)
  for (let index = 0; index < 5; index++) {
    await validate('/cas/serviceValidate', { ticket: `ST-unknown-${index}`, service })
    await fetch(`${quad.baseUrl}/oidc/jwks`)
  }
  t.is(await count(), before, 'back-channel calls leave the sessions table as it was')
  // A browser still gets its session on the sign-in pages.
  const fresh = new TestClient(quad.baseUrl)
  await fresh.get('/portal/login')
  t.is(await count(), before + 1)
})

test('proxy validation accepts service tickets; proxying itself is refused', async (t) => {
  const service = `${appBase}/portal-proxy/login`
  await givenCasApp(service)
  const browser = await signedInBrowser()
  const ticket = await ticketFor(browser, service)
  const answer = await validate('/cas/proxyValidate', {
    ticket,
    service,
    pgtUrl: `${appBase}/pgt-callback`,
  })
  t.regex(answer.text, /<cas:authenticationSuccess>/)
  t.false(answer.text.includes('proxyGrantingTicket'), 'no proxy-granting ticket is issued')

  const proxyTicket = await validate('/cas/p3/proxyValidate', { ticket: 'PT-123', service })
  t.is(failureCode(proxyTicket.text), 'INVALID_TICKET')

  t.is(failureCode((await validate('/cas/proxy', {})).text), 'INVALID_REQUEST')
  const proxy = await validate('/cas/proxy', { pgt: 'PGT-1', targetService: service })
  t.is(failureCode(proxy.text), 'UNAUTHORIZED_SERVICE_PROXY')
  t.regex(proxy.text, /<cas:proxyFailure/)

  const v1ticket = await ticketFor(browser, service)
  t.is(
    (await validate('/cas/validate', { ticket: v1ticket, service })).text,
    `yes\n${person.personNo}\n`
  )
  t.is((await validate('/cas/validate', { ticket: v1ticket, service })).text, 'no\n\n')
})

test('logout ends the portal session and sends each app of the session a SAML LogoutRequest', async (t) => {
  const first = `${appBase}/slo/one`
  const second = `${appBase}/slo/two?x=1`
  const slow = `${appBase}/slow/app`
  for (const service of [first, second, slow]) await givenCasApp(service)
  const browser = await signedInBrowser()
  const tickets = [
    await ticketFor(browser, first),
    await ticketFor(browser, second),
    await ticketFor(browser, slow),
  ]
  const elsewhere = await signedInBrowser()
  const unrelated = await ticketFor(elsewhere, first)

  const started = Date.now()
  const response: TestResponse = await browser.get(
    `/cas/logout?service=${encodeURIComponent(first)}`
  )
  t.true(Date.now() - started < 6000, 'an app that does not answer does not hold the logout')
  t.is(response.status, 302)
  t.is(response.location, first)

  const received = logoutsReceived.filter((entry) => entry.path.startsWith('/slo/'))
  t.deepEqual(received.map((entry) => entry.path).sort(), ['/slo/one', '/slo/two?x=1'])
  for (const [index, ticket] of tickets.slice(0, 2).entries()) {
    const message = received.find((entry) => entry.logoutRequest.includes(ticket))
    t.truthy(message, `logout for ticket ${index}`)
    t.regex(message!.logoutRequest, /^<samlp:LogoutRequest [^>]*Version="2\.0"/)
    t.regex(message!.logoutRequest, /<samlp:SessionIndex>ST-[\w-]+<\/samlp:SessionIndex>/)
  }
  t.false(received.some((entry) => entry.logoutRequest.includes(unrelated)))
  t.is((await ticketRow(tickets[0])).logoutResult, '200')
  t.is((await ticketRow(tickets[2])).logoutResult, 'error: timeout')
  t.is((await ticketRow(unrelated)).logoutSentAt, null)

  const portal = await browser.get('/portal')
  t.is(portal.status, 302, 'signed out of the portal')
  t.regex(portal.location!, /^\/portal\/login/)
  const stillIn = await elsewhere.get('/portal')
  t.is(stillIn.status, 200, 'another browser keeps its session')

  const { auditOf } = await import('#tests/portal/fixtures')
  const audit = await auditOf(person.person.publicId)
  t.true(audit.some((entry) => entry.action === 'apps.cas_logout'))
})

test('logout shows a signed-out page instead of redirecting to an unregistered service', async (t) => {
  const browser = await signedInBrowser()
  for (const target of ['http://evil.example/', `${appBase}/never-registered`]) {
    const response = await browser.get(`/cas/logout?service=${encodeURIComponent(target)}`)
    t.is(response.status, 200)
    t.is(response.location, null)
    t.regex(response.text, /data-testid="cas-signed-out"/)
  }
  const plain = await new TestClient(quad.baseUrl).get('/cas/logout')
  t.regex(plain.text, /data-testid="cas-signed-out"/)
})

test('housekeeping removes the tickets of ended portal sessions once they have expired', async (t) => {
  const service = `${appBase}/prune/login`
  await givenCasApp(service)
  const browser = await signedInBrowser()
  const ended = await ticketFor(browser, service)
  await browser.get('/cas/logout')
  const kept = await ticketFor(await signedInBrowser(), service)
  const { pruneCasTickets } = await import('#app_center/services/cas_tickets')
  const { DateTime } = await import('luxon')
  t.true((await pruneCasTickets(DateTime.utc().plus({ minutes: 5 }))) >= 1)
  const { ticketDigest } = await import('#app_center/services/cas_tickets')
  const { default: CasTicket } = await import('#app_center/models/cas_ticket')
  t.is(await CasTicket.findBy('ticket_hash', ticketDigest(ended)), null)
  t.truthy(
    await CasTicket.findBy('ticket_hash', ticketDigest(kept)),
    'a running session keeps its tickets'
  )
})

test('a launch from the service hall followed by the CAS sign-in counts once', async (t) => {
  const service = `${appBase}/hall/login`
  const app = await givenCasApp(service)
  const browser = await signedInBrowser()
  const launched = await browser.get(`/portal/apps/${app.publicId}/launch`)
  t.is(launched.status, 302)
  t.is(launched.location, service)
  t.true((await ticketFor(browser, service)).startsWith('ST-'))
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const launches = await db.from('app_launches').where('app_id', app.id).count('* as total')
  t.is(Number(launches[0].total), 1)
})
