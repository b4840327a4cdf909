import test from 'ava'
import { createPublicKey, verify } from 'node:crypto'
import { TestClient } from '#tests/helpers/http'
import { aceEnvironment, runAce } from '#tests/helpers/ace'
import type { GivenPerson } from '#tests/portal/fixtures'
import {
  authorizationRequest,
  bootOidcTestApp,
  browse,
  givenOidcApp,
  hiddenInputs,
  oauthError,
  oidc,
  redeem,
  relyingParty,
  type OidcTestApp,
} from './helpers.js'

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

let quad: OidcTestApp
let person: GivenPerson

test.before(async () => {
  quad = await bootOidcTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const { givenPerson } = await import('#tests/portal/fixtures')
  person = await givenPerson({ name: '周子涵' })
})

test.after.always(async () => {
  await quad?.close()
})

async function signedInBrowser(who: GivenPerson = person) {
  const { portalSignIn } = await import('#tests/portal/fixtures')
  const browser = new TestClient(quad.baseUrl)
  await portalSignIn(browser, who)
  return browser
}

/** The token request a kiosk makes while it waits (without openid-client's polling delay). */
function pollOnce(config: oidc.Configuration, deviceCode: string) {
  return oidc.genericGrantRequest(config, DEVICE_GRANT, { device_code: deviceCode })
}

/**
 * The person types the kiosk's code in the portal: the code page, its
 * confirmation, then the sign-in that the portal session answers.
 */
async function enterCode(browser: TestClient, userCode: string) {
  const opened = await browse(browser, quad.baseUrl, `/portal/device/${userCode}`)
  // The provider hands the code to its own form with an automatic POST.
  const carried = hiddenInputs(opened.response.text)
  const confirmPage = await browser.post('/oidc/device', { ...carried, _csrf: null })
  return { carried, confirmPage }
}

test('a kiosk signs a person in with the device grant; the code is typed in the portal', async (t) => {
  const kiosk = await givenOidcApp({
    name: '图书馆自助借还机',
    publicClient: true,
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
  })
  const config = await relyingParty(quad.issuer, kiosk)
  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' })
  t.is(started.verification_uri, `${quad.issuer}/device`)
  t.regex(started.user_code, /^[A-Z]{4}-[A-Z]{4}$/)
  t.is(
    oauthError(await t.throwsAsync(pollOnce(config, started.device_code))),
    'authorization_pending'
  )

  // Opening the code page without a portal session leads to the portal's sign-in first.
  const stranger = new TestClient(quad.baseUrl)
  const redirected = await stranger.get(
    new URL(started.verification_uri_complete!).pathname +
      new URL(started.verification_uri_complete!).search
  )
  t.is(
    redirected.location,
    `/portal/login?next=${encodeURIComponent(`/portal/device/${started.user_code}`)}`
  )

  const browser = await signedInBrowser()
  const { carried, confirmPage } = await enterCode(browser, started.user_code)
  t.is(carried.user_code, started.user_code)
  t.is(confirmPage.status, 200)
  t.regex(confirmPage.text, /data-testid="device-confirm"/)
  t.regex(confirmPage.text, /图书馆自助借还机/)
  const confirm = hiddenInputs(confirmPage.text)
  const approved = await browser.post('/oidc/device', {
    xsrf: confirm.xsrf,
    user_code: confirm.user_code,
    confirm: 'yes',
    _csrf: null,
  })
  const done = await browse(browser, quad.baseUrl, approved.location!)
  t.is(done.response.status, 200)
  t.regex(done.response.text, /data-testid="device-done"/)

  const tokens = await pollOnce(config, started.device_code)
  t.is(tokens.claims()!.sub, person.person.publicId)
  t.is(tokens.claims()!.name, '周子涵')
  const info = await oidc.fetchUserInfo(config, tokens.access_token, person.person.publicId)
  t.is(info.person_number, person.personNo)
  // The device code is used up.
  t.is(oauthError(await t.throwsAsync(pollOnce(config, started.device_code))), 'invalid_grant')
})

test('a wrong code is shown as such; a person outside the audience refuses the device', async (t) => {
  const { default: Audience } = await import('#identity/models/audience')
  const audience = await Audience.create({
    name: '教师',
    rules: {
      version: 1,
      allPeople: false,
      identityTypes: ['teacher'],
      orgUnits: [],
      statuses: [],
      enrollmentYears: { years: [], from: null, to: null },
      tags: [],
      include: [],
      exclude: [],
    },
    createdBy: null,
  })
  const kiosk = await givenOidcApp({
    name: '教师打印机',
    publicClient: true,
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
    audience: audience.publicId,
  })
  const config = await relyingParty(quad.issuer, kiosk)
  const browser = await signedInBrowser()

  const wrong = await enterCode(browser, 'BCDF-GHJK')
  t.regex(wrong.confirmPage.text, /data-problem="not_found"/)

  const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' })
  const { confirmPage } = await enterCode(browser, started.user_code)
  const confirm = hiddenInputs(confirmPage.text)
  const approved = await browser.post('/oidc/device', {
    xsrf: confirm.xsrf,
    user_code: confirm.user_code,
    confirm: 'yes',
    _csrf: null,
  })
  const refused = await browse(browser, quad.baseUrl, approved.location!)
  t.regex(refused.response.text, /data-problem="refused"/)
  t.is(oauthError(await t.throwsAsync(pollOnce(config, started.device_code))), 'access_denied')
})

/** Verifies a JWS against a JWKS with Node's own crypto. */
function verifiesWith(jwks: { keys: any[] }, token: string): boolean {
  const [header, payload, signature] = token.split('.')
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString())
  const jwk = jwks.keys.find((key) => key.kid === kid)
  if (!jwk) return false
  const key = createPublicKey({ key: jwk, format: 'jwk' })
  return verify(
    alg === 'EdDSA' ? null : 'sha256',
    Buffer.from(`${header}.${payload}`),
    key,
    Buffer.from(signature, 'base64url')
  )
}

const kidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid as string

test('key rotation signs with the new key and keeps the old one published until it retires', async (t) => {
  const app = await givenOidcApp({ name: '密钥轮换', publicClient: true })
  const browser = await signedInBrowser()
  const signIn = async () => {
    const config = await relyingParty(quad.issuer, app)
    const request = await authorizationRequest(config)
    const journey = await browse(browser, quad.baseUrl, request.url.href)
    return (await redeem(config, journey.left!, request)).id_token!
  }
  const jwks = async () => (await (await fetch(`${quad.issuer}/jwks`)).json()) as { keys: any[] }

  const oldToken = await signIn()
  const oldKid = kidOf(oldToken)

  const rotated = await runAce(['oidc:rotate-keys', '--json'], { env: aceEnvironment(quad) })
  t.is(rotated.code, 0, rotated.output)
  const outcome = JSON.parse(rotated.stdout.trim().split('\n').pop()!)
  t.is(outcome.retired.length, 0)
  t.true(outcome.kept.some((key: { kid: string }) => key.kid === oldKid))

  const newToken = await signIn()
  t.not(kidOf(newToken), oldKid)
  const published = await jwks()
  t.true(verifiesWith(published, oldToken), 'the old ID token still verifies')
  t.true(verifiesWith(published, newToken))

  // A second rotation that retires at once withdraws the first keys.
  const again = await runAce(['oidc:rotate-keys', '--retire-after', '0'], {
    env: aceEnvironment(quad),
  })
  t.is(again.code, 0, again.output)
  const later = await jwks()
  t.false(later.keys.some((key: { kid: string }) => key.kid === oldKid))
  t.true(later.keys.some((key: { kid: string }) => key.kid === kidOf(newToken)))

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const audit = await db.from('audit_entries').where('action', 'apps.signing_keys_rotated')
  t.is(audit.length, 2)
})

test('an app may ask for EdDSA-signed ID tokens', async (t) => {
  const app = await givenOidcApp({ name: 'EdDSA 应用', idTokenAlg: 'EdDSA' })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  const request = await authorizationRequest(config)
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  const tokens = await redeem(config, journey.left!, request)
  const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0], 'base64url').toString())
  t.is(header.alg, 'EdDSA')
  t.is(tokens.claims()!.sub, person.person.publicId)
})

test('the hourly prune deletes expired provider rows and keeps live ones', async (t) => {
  const { DateTime } = await import('luxon')
  const { OidcPayloadAdapter, pruneOidcPayloads } =
    await import('#app_center/services/oidc_adapter')
  const adapter = new OidcPayloadAdapter('Interaction')
  await adapter.upsert('expired-one', { jti: 'expired-one' }, 60)
  await adapter.upsert('live-one', { jti: 'live-one' }, 3600)
  t.truthy(await adapter.find('expired-one'))
  const deleted = await pruneOidcPayloads(DateTime.utc().plus({ minutes: 5 }))
  t.true(deleted >= 1)
  t.is(await adapter.find('expired-one'), undefined)
  t.truthy(await adapter.find('live-one'))
})
