/**
 * What the app center's tests share: an app whose APP_URL is the address it
 * really listens on (the provider's issuer must be the URL relying parties
 * reach), apps registered through the SaveApp action, a real relying party
 * (openid-client) and a browser that follows the provider's redirects.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oidc from 'openid-client'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { TestClient, TestResponse } from '#tests/helpers/http'

/** Where the relying parties of the tests say they live; nothing listens there. */
export const RP = 'http://app.school.test/rp'
export const CALLBACK = `${RP}/callback`
export const AFTER_LOGOUT = `${RP}/signed-out`

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

export interface OidcTestApp extends TestApp {
  issuer: string
}

/** Boots the app on a port chosen first, so that APP_URL (and the issuer) is its real address. */
export async function bootOidcTestApp(): Promise<OidcTestApp> {
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const quad = await bootTestApp({
    http: false,
    env: { APP_URL: baseUrl, QUAD_PORTAL_LOGIN_RATE_LIMIT: '1000' },
  })
  const adonis = await quad.app.container.make('server')
  await adonis.boot()
  const server: Server = createServer(adonis.handle.bind(adonis))
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    ...quad,
    baseUrl,
    issuer: `${baseUrl}/oidc`,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await quad.close()
    },
  }
}

export interface RegisteredApp {
  publicId: string
  clientId: string
  secret: string | null
}

/** Registers an OpenID Connect app through the same action as the console. */
export async function givenOidcApp(
  options: {
    name?: string
    publicClient?: boolean
    firstParty?: boolean
    scopes?: string[]
    grantTypes?: string[]
    audience?: string | null
    method?: 'client_secret_basic' | 'client_secret_post'
    idTokenAlg?: 'RS256' | 'EdDSA'
    launchUrl?: string | null
  } = {}
): Promise<RegisteredApp> {
  const { SaveApp } = await import('#app_center/actions/save_app')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const result = await new SaveApp().handle(
    {
      nameZh: options.name ?? '教务系统',
      category: 'teaching',
      kind: 'oidc',
      launchUrl: options.launchUrl ?? `${RP}/login`,
      redirectUris: [CALLBACK],
      postLogoutRedirectUris: [AFTER_LOGOUT],
      publicClient: options.publicClient ?? false,
      firstParty: options.firstParty ?? true,
      tokenEndpointAuthMethod: options.method ?? 'client_secret_basic',
      allowedScopes: (options.scopes ?? ['openid', 'profile', 'email', 'phone']) as never,
      grantTypes: (options.grantTypes ?? ['authorization_code']) as never,
      audience: options.audience ?? null,
      idTokenAlg: options.idTokenAlg ?? 'RS256',
    },
    { mode: 'create' },
    SYSTEM_ACTOR
  )
  if (!result.ok) throw new Error(`app not saved: ${JSON.stringify(result.details)}`)
  return {
    publicId: result.value.app.publicId,
    clientId: result.value.app.oidcClientId!,
    secret: result.value.secret,
  }
}

/** A relying party for the app, configured from the provider's discovery document. */
export async function relyingParty(issuer: string, registered: RegisteredApp) {
  const auth = registered.secret ? oidc.ClientSecretBasic(registered.secret) : oidc.None()
  return oidc.discovery(new URL(issuer), registered.clientId, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  })
}

/** The authorization request of a code flow with PKCE, and what the callback checks. */
export async function authorizationRequest(
  config: oidc.Configuration,
  scope = 'openid profile',
  extra: Record<string, string> = {}
) {
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const nonce = oidc.randomNonce()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  })
  return { url, verifier, state, nonce }
}

export interface Journey {
  /** The last answer the browser got from Quad. */
  response: TestResponse
  /** The address Quad sent the browser to outside itself (the app's callback), if any. */
  left: URL | null
}

/** Where a response sends the browser next: a redirect, or a page's Refresh header. */
function nextHop(response: TestResponse): string | null {
  if (response.location && response.status >= 300 && response.status < 400) {
    return response.location
  }
  const refresh = response.status === 200 ? response.headers.get('refresh') : null
  return refresh ? (/url=(.+)$/i.exec(refresh)?.[1] ?? null) : null
}

/**
 * Follows Quad's redirects (and pages that continue by themselves) like a
 * browser, from a response, until it is sent to the relying party or shown
 * a page that waits for the person.
 */
export async function follow(
  browser: TestClient,
  base: string,
  from: TestResponse
): Promise<Journey> {
  let response = from
  for (let hop = 0; hop < 12; hop++) {
    const target = nextHop(response)
    if (!target) break
    const next = new URL(target, base)
    if (next.origin !== base) return { response, left: next }
    response = await browser.get(next.href.replace(base, ''))
  }
  return { response, left: null }
}

/** Opens an address in the browser and follows it like `follow`. */
export async function browse(browser: TestClient, base: string, start: string): Promise<Journey> {
  return follow(browser, base, await browser.get(start.replace(base, '')))
}

/** Finishes a code flow at the relying party: exchanges the code and checks the ID token. */
export function redeem(
  config: oidc.Configuration,
  callback: URL,
  request: { verifier: string; state: string; nonce: string }
) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  })
}

/**
 * The OAuth error code openid-client reports, from a JSON error body or a
 * WWW-Authenticate challenge.
 */
export function oauthError(error: unknown): string | undefined {
  const problem = error as {
    error?: string
    cause?: { parameters?: { error?: string } }[] | unknown
  }
  if (problem?.error) return problem.error
  if (Array.isArray(problem?.cause)) return problem.cause[0]?.parameters?.error
  return undefined
}

/** Values of hidden inputs on a page, by name. */
export function hiddenInputs(html: string): Record<string, string> {
  const values: Record<string, string> = {}
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    values[match[1]] = match[2]
  }
  return values
}

export { oidc }
