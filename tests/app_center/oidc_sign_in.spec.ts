import test from 'ava'
import { TestClient } from '#tests/helpers/http'
import type { GivenPerson } from '#tests/portal/fixtures'
import {
  authorizationRequest,
  bootOidcTestApp,
  browse,
  follow,
  AFTER_LOGOUT,
  CALLBACK,
  givenOidcApp,
  oauthError,
  oidc,
  redeem,
  relyingParty,
  type OidcTestApp,
} from './helpers.js'

let quad: OidcTestApp
let person: GivenPerson

test.before(async () => {
  quad = await bootOidcTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const { givenPerson } = await import('#tests/portal/fixtures')
  person = await givenPerson({ name: '林晓雨', email: 'lin@example.edu.cn' })
  const { encryptPii, maskPhone } = await import('#identity/services/pii')
  person.person.phoneCiphertext = encryptPii('phone', '13800138000')
  person.person.phoneMasked = maskPhone('13800138000')
  await person.person.save()
})

test.after.always(async () => {
  await quad?.close()
})

/** A browser in which the person has signed in to the portal through its real form. */
async function signedInBrowser(who: GivenPerson = person) {
  const { portalSignIn } = await import('#tests/portal/fixtures')
  const browser = new TestClient(quad.baseUrl)
  await portalSignIn(browser, who)
  return browser
}

test('publishes discovery and a JWKS that name Quad as the issuer', async (t) => {
  const response = await fetch(`${quad.issuer}/.well-known/openid-configuration`)
  t.is(response.status, 200)
  const discovery = (await response.json()) as Record<string, any>
  t.is(discovery.issuer, quad.issuer)
  t.is(discovery.authorization_endpoint, `${quad.issuer}/auth`)
  t.is(discovery.device_authorization_endpoint, `${quad.issuer}/device/auth`)
  t.deepEqual(discovery.code_challenge_methods_supported, ['S256'])
  t.deepEqual(discovery.response_types_supported, ['code'])
  for (const scope of ['openid', 'profile', 'email', 'phone', 'campus', 'offline_access'])
    t.true(discovery.scopes_supported.includes(scope), scope)
  for (const claim of ['person_number', 'org_unit_path', 'phone_number'])
    t.true(discovery.claims_supported.includes(claim), claim)
  t.truthy(discovery.introspection_endpoint)
  t.truthy(discovery.revocation_endpoint)
  t.truthy(discovery.end_session_endpoint)

  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: any[] }
  const algs = jwks.keys.map((key: { alg: string }) => key.alg).sort()
  t.deepEqual(algs, ['EdDSA', 'RS256'])
  t.false(JSON.stringify(jwks).includes('"d"'), 'no private parts')
})

test('signs a person in to a public client with PKCE, from the portal session, without a password', async (t) => {
  const app = await givenOidcApp({ name: '移动校园', publicClient: true })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  const request = await authorizationRequest(config, 'openid profile')
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  t.truthy(journey.left, `stopped at ${journey.response.status} ${journey.response.location}`)
  t.true(journey.left!.href.startsWith(CALLBACK))

  const tokens = await redeem(config, journey.left!, request)
  const claims = tokens.claims()!
  t.is(claims.sub, person.person.publicId)
  t.is(claims.iss, quad.issuer)
  t.is(claims.name, '林晓雨')
  t.is(claims.person_number, person.personNo)
  t.is(claims.identity_type, 'undergraduate')
  t.deepEqual(claims.org_unit_path, ['华南示范大学'])
  t.is(claims.phone_number, undefined)
})

test('refuses a public client that leaves out PKCE', async (t) => {
  const app = await givenOidcApp({ publicClient: true })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid',
    state: 'no-pkce',
  })
  const journey = await browse(browser, quad.baseUrl, url.href)
  t.truthy(journey.left)
  t.is(journey.left!.searchParams.get('error'), 'invalid_request')
  t.regex(journey.left!.searchParams.get('error_description') ?? '', /PKCE/i)
  t.is(journey.left!.searchParams.get('code'), null)
})

test('sends a browser without a portal session to the portal sign-in and back into the sign-in', async (t) => {
  const app = await givenOidcApp({ name: '图书馆' })
  const config = await relyingParty(quad.issuer, app)
  const request = await authorizationRequest(config)
  const browser = new TestClient(quad.baseUrl)
  const first = await browse(browser, quad.baseUrl, request.url.href)
  t.is(first.left, null)
  t.is(first.response.status, 200)
  t.regex(browser.lastPage ?? '', /\/portal\/login\?next=%2Fportal%2Fauthorize%2F/)
  const next = decodeURIComponent(/next=([^&]+)/.exec(browser.lastPage!)![1])

  const signedIn = await browser.post('/portal/login', {
    personNo: person.personNo,
    password: person.password,
    next,
  })
  t.is(signedIn.location, next)
  const journey = await browse(browser, quad.baseUrl, next)
  t.truthy(journey.left)
  const tokens = await redeem(config, journey.left!, request)
  t.is(tokens.claims()!.sub, person.person.publicId)
})

test('a confidential client authenticates with its secret; a wrong secret is refused', async (t) => {
  const app = await givenOidcApp({ name: '科研管理', method: 'client_secret_post' })
  t.truthy(app.secret)
  const right = await oidc.discovery(
    new URL(quad.issuer),
    app.clientId,
    undefined,
    oidc.ClientSecretPost(app.secret!),
    { execute: [oidc.allowInsecureRequests] }
  )
  const browser = await signedInBrowser()
  const request = await authorizationRequest(right)
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  t.truthy(journey.left)
  const tokens = await redeem(right, journey.left!, request)
  t.truthy(tokens.access_token)

  const wrong = await oidc.discovery(
    new URL(quad.issuer),
    app.clientId,
    undefined,
    oidc.ClientSecretPost('not-the-secret'),
    { execute: [oidc.allowInsecureRequests] }
  )
  const again = await authorizationRequest(wrong)
  const second = await browse(browser, quad.baseUrl, again.url.href)
  const error = await t.throwsAsync(redeem(wrong, second.left!, again))
  t.is(oauthError(error), 'invalid_client')
})

test('asks consent for a third-party app once, and skips it for a school-owned app', async (t) => {
  const browser = await signedInBrowser()

  const owned = await givenOidcApp({ name: '一卡通', firstParty: true })
  const ownedConfig = await relyingParty(quad.issuer, owned)
  const ownedRequest = await authorizationRequest(ownedConfig, 'openid profile email')
  const direct = await browse(browser, quad.baseUrl, ownedRequest.url.href)
  t.truthy(direct.left, 'no consent page for a school-owned app')

  const partner = await givenOidcApp({ name: '合作书店', firstParty: false })
  const config = await relyingParty(quad.issuer, partner)
  const request = await authorizationRequest(config, 'openid profile email')
  const asked = await browse(browser, quad.baseUrl, request.url.href)
  t.is(asked.left, null)
  t.is(asked.response.status, 200)
  t.regex(asked.response.text, /data-testid="oidc-consent"/)
  t.regex(asked.response.text, /合作书店/)
  t.regex(asked.response.text, /data-scope="email"/)
  const action = /action="(\/portal\/authorize\/[^"]+\/consent)"/.exec(asked.response.text)![1]

  const allowed = await browser.post(action, { decision: 'allow' })
  const journey = await follow(browser, quad.baseUrl, allowed)
  t.truthy(journey.left)
  const tokens = await redeem(config, journey.left!, request)
  t.is(tokens.claims()!.email, 'lin@example.edu.cn')

  // The same scopes again: no second question.
  const again = await authorizationRequest(config, 'openid profile email')
  const silent = await browse(browser, quad.baseUrl, again.url.href)
  t.truthy(silent.left)
  t.truthy(silent.left!.searchParams.get('code'))

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const audit = await db
    .from('audit_entries')
    .where('action', 'apps.consent_given')
    .where('subject_id', partner.publicId)
  t.is(audit.length, 1)
  t.is(audit[0].actor_id, person.person.publicId)
})

test('a person who declines consent sends the app access_denied', async (t) => {
  const partner = await givenOidcApp({ name: '校外问卷', firstParty: false })
  const config = await relyingParty(quad.issuer, partner)
  const browser = await signedInBrowser()
  const request = await authorizationRequest(config)
  const asked = await browse(browser, quad.baseUrl, request.url.href)
  const action = /action="(\/portal\/authorize\/[^"]+\/consent)"/.exec(asked.response.text)![1]
  const declined = await browser.post(action, { decision: 'deny' })
  const journey = await follow(browser, quad.baseUrl, declined)
  t.is(journey.left!.searchParams.get('error'), 'access_denied')
  t.is(journey.left!.searchParams.get('state'), request.state)
})

test('releases the phone number only with the phone scope, in the ID token and at userinfo', async (t) => {
  const app = await givenOidcApp({ name: '宿舍报修' })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()

  const withPhone = await authorizationRequest(config, 'openid phone')
  const first = await browse(browser, quad.baseUrl, withPhone.url.href)
  const phoneTokens = await redeem(config, first.left!, withPhone)
  t.is(phoneTokens.claims()!.phone_number, '13800138000')
  const phoneInfo = await oidc.fetchUserInfo(
    config,
    phoneTokens.access_token,
    person.person.publicId
  )
  t.is(phoneInfo.phone_number, '13800138000')
  t.is(phoneInfo.name, undefined, 'no profile without the profile scope')

  const withoutPhone = await authorizationRequest(config, 'openid profile')
  const second = await browse(browser, quad.baseUrl, withoutPhone.url.href)
  const profileTokens = await redeem(config, second.left!, withoutPhone)
  t.is(profileTokens.claims()!.phone_number, undefined)
  const profileInfo = await oidc.fetchUserInfo(
    config,
    profileTokens.access_token,
    person.person.publicId
  )
  t.is(profileInfo.phone_number, undefined)
  t.is(profileInfo.name, '林晓雨')
  t.is(profileInfo.person_number, person.personNo)
})

test('refuses scopes the app is not allowed', async (t) => {
  const app = await givenOidcApp({ name: '只读应用', scopes: ['openid', 'profile'] })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  const request = await authorizationRequest(config, 'openid phone')
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  t.is(journey.left!.searchParams.get('error'), 'invalid_scope')
})

test('refreshes, introspects and revokes tokens', async (t) => {
  const app = await givenOidcApp({
    name: '课表',
    scopes: ['openid', 'profile', 'offline_access'],
    grantTypes: ['authorization_code', 'refresh_token'],
  })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  // offline_access is honoured with prompt=consent (OpenID Connect Core 11).
  const request = await authorizationRequest(config, 'openid profile offline_access', {
    prompt: 'consent',
  })
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  const tokens = await redeem(config, journey.left!, request)
  t.truthy(tokens.refresh_token)

  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!)
  t.truthy(refreshed.access_token)
  t.not(refreshed.access_token, tokens.access_token)

  const active = await oidc.tokenIntrospection(config, refreshed.access_token)
  t.true(active.active)
  t.is(active.sub, person.person.publicId)
  t.is(active.client_id, app.clientId)

  const refreshToken = refreshed.refresh_token ?? tokens.refresh_token!
  t.true((await oidc.tokenIntrospection(config, refreshToken)).active)

  // Revoking a token revokes what the same grant issued: the refresh token goes too.
  await oidc.tokenRevocation(config, refreshed.access_token)
  t.false((await oidc.tokenIntrospection(config, refreshed.access_token)).active)
  t.false((await oidc.tokenIntrospection(config, refreshToken)).active)
  t.is(
    oauthError(await t.throwsAsync(oidc.refreshTokenGrant(config, refreshToken))),
    'invalid_grant'
  )
})

test('an authorization code works once', async (t) => {
  const app = await givenOidcApp({ name: '单次授权码' })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  const request = await authorizationRequest(config)
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  const tokens = await redeem(config, journey.left!, request)
  const replay = await t.throwsAsync(redeem(config, journey.left!, request))
  t.is(oauthError(replay), 'invalid_grant')
  // The replay revokes what the code had issued.
  t.false((await oidc.tokenIntrospection(config, tokens.access_token)).active)
})

test('refuses a redirect URI that is not registered exactly, without redirecting', async (t) => {
  const app = await givenOidcApp({ name: '回调校验' })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  for (const redirect of [
    `${CALLBACK}/`,
    `${CALLBACK}?next=1`,
    'http://attacker.example/callback',
  ]) {
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirect,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    })
    const journey = await browse(browser, quad.baseUrl, url.href)
    t.is(journey.left, null, redirect)
    t.is(journey.response.status, 400)
    t.regex(journey.response.text, /data-testid="oidc-error"/)
  }
})

test('an app whose audience leaves the person out refuses them with access_denied', async (t) => {
  const { givenPerson } = await import('#tests/portal/fixtures')
  const { default: Audience } = await import('#identity/models/audience')
  const member = await givenPerson({ name: '受众成员' })
  const audience = await Audience.create({
    name: '仅限成员',
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
  const app = await givenOidcApp({ name: '限定应用', audience: audience.publicId })
  const config = await relyingParty(quad.issuer, app)

  const outsider = await signedInBrowser()
  const refused = await authorizationRequest(config)
  const journey = await browse(outsider, quad.baseUrl, refused.url.href)
  t.is(journey.left!.searchParams.get('error'), 'access_denied')
  t.is(journey.left!.searchParams.get('code'), null)

  const insider = await signedInBrowser(member)
  const allowed = await authorizationRequest(config)
  const granted = await browse(insider, quad.baseUrl, allowed.url.href)
  const tokens = await redeem(config, granted.left!, allowed)
  t.is(tokens.claims()!.sub, member.person.publicId)
})

test('a disabled app refuses sign-in with access_denied and its tokens stop working', async (t) => {
  const app = await givenOidcApp({ name: '将停用的应用' })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser()
  const before = await authorizationRequest(config)
  const earlier = await browse(browser, quad.baseUrl, before.url.href)
  const tokens = await redeem(config, earlier.left!, before)
  const pending = await authorizationRequest(config)
  const unredeemed = await browse(browser, quad.baseUrl, pending.url.href)

  const { SetAppEnabled } = await import('#app_center/actions/set_app_enabled')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  t.true((await new SetAppEnabled().handle(app.publicId, false, SYSTEM_ACTOR)).ok)

  const request = await authorizationRequest(config)
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  t.is(journey.left!.searchParams.get('error'), 'access_denied')
  const redeemed = await t.throwsAsync(redeem(config, unredeemed.left!, pending))
  t.is(oauthError(redeemed), 'invalid_client')
  await t.throwsAsync(oidc.fetchUserInfo(config, tokens.access_token, person.person.publicId))
})

test('tokens of a person who has left stop working: introspection inactive, userinfo refused', async (t) => {
  const { givenPerson } = await import('#tests/portal/fixtures')
  const leaver = await givenPerson({ name: '将离校' })
  const app = await givenOidcApp({ name: '离校检查' })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser(leaver)
  const request = await authorizationRequest(config)
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  const tokens = await redeem(config, journey.left!, request)
  t.true((await oidc.tokenIntrospection(config, tokens.access_token)).active)

  const { ChangePersonStatus } = await import('#identity/actions/change_person_status')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const changed = await new ChangePersonStatus().handle(
    { publicId: leaver.person.publicId, status: 'left', reason: '退学' },
    SYSTEM_ACTOR
  )
  t.true(changed.ok)

  t.false((await oidc.tokenIntrospection(config, tokens.access_token)).active)
  const refused = await t.throwsAsync(
    oidc.fetchUserInfo(config, tokens.access_token, leaver.person.publicId)
  )
  t.is(oauthError(refused), 'invalid_token')
  // And no new sign-in: the portal session is refused too.
  const again = await authorizationRequest(config)
  const blocked = await browse(browser, quad.baseUrl, again.url.href)
  t.is(blocked.left, null)
  t.regex(browser.lastPage ?? '', /\/portal\/login/)
})

test('RP-initiated logout ends the provider and portal sessions and returns to the app', async (t) => {
  const { givenPerson } = await import('#tests/portal/fixtures')
  const who = await givenPerson({ name: '退出者' })
  const app = await givenOidcApp({ name: '退出测试' })
  const config = await relyingParty(quad.issuer, app)
  const browser = await signedInBrowser(who)
  const request = await authorizationRequest(config)
  const journey = await browse(browser, quad.baseUrl, request.url.href)
  const tokens = await redeem(config, journey.left!, request)

  const logoutUrl = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token!,
    post_logout_redirect_uri: AFTER_LOGOUT,
    state: 'bye',
  })
  const page = await browse(browser, quad.baseUrl, logoutUrl.href)
  t.is(page.response.status, 200)
  t.regex(page.response.text, /data-testid="oidc-logout"/)
  t.regex(page.response.text, /退出测试/)
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.response.text)![1]
  const confirmed = await browser.post('/oidc/session/end/confirm', {
    xsrf,
    logout: 'yes',
    _csrf: null,
  })
  t.is(confirmed.status, 303)
  const back = new URL(confirmed.location!)
  t.is(`${back.origin}${back.pathname}`, AFTER_LOGOUT)
  t.is(back.searchParams.get('state'), 'bye')

  t.is((await browser.get('/portal')).location, '/portal/login')
  const again = await authorizationRequest(config)
  const next = await browse(browser, quad.baseUrl, again.url.href)
  t.is(next.left, null)
  t.regex(browser.lastPage ?? '', /\/portal\/login/)
})
