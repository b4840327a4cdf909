import { createHmac } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import logger from '@adonisjs/core/services/logger'
import { errors, interactionPolicy, Provider, type KoaContextWithOIDC } from 'oidc-provider'
import env from '#start/env'
import { appUrl } from '#config/app'
import Person from '#identity/models/person'
import CampusApp from '#app_center/models/campus_app'
import { oidcAdapter } from '#app_center/services/oidc_adapter'
import { accountIsActive, findOidcAccount, OIDC_CLAIMS } from '#app_center/services/oidc_accounts'
import { keyringVersion, oidcSigningKeys } from '#app_center/services/oidc_keys'
import { clientSecretMatches } from '#app_center/services/client_secrets'
import { personMayUseApp } from '#app_center/services/app_visibility'
import { endPortalIdentity, type PortalIdentity } from '#app_center/services/portal_identity'
import { ID_TOKEN_ALGS, OIDC_SCOPES } from '#app_center/services/app_rules'

/**
 * Quad's OpenID Connect provider (panva's oidc-provider), mounted at /oidc.
 * It never asks for a password itself: the person's portal session is the
 * single sign-on session. The HTTP adapter hands each request's portal
 * identity and a page renderer to the provider through `bindOidcRequest`;
 * the provider's interaction pages (/portal/authorize/:uid) complete the
 * sign-in from the portal session, ask third-party apps' consent, and send
 * people without a portal session to the portal's sign-in page.
 *
 * State lives in the database (oidc_payloads, apps) and keys in the storage
 * root, so any number of web processes serve the same provider. See
 * docs/adr/0010-oidc-provider.md.
 */

export const OIDC_MOUNT = '/oidc'

/** Where the provider sends a browser to sign in or consent. */
export const INTERACTION_PATH = '/portal/authorize'

/** Lifetimes, in seconds. */
export const OIDC_TTL = {
  accessToken: 60 * 60,
  authorizationCode: 60,
  idToken: 60 * 60,
  refreshToken: 14 * 24 * 60 * 60,
  deviceCode: 10 * 60,
  interaction: 60 * 60,
  /** The provider's own session only caches the portal's; it is checked on every sign-in. */
  session: 12 * 60 * 60,
  grant: 30 * 24 * 60 * 60,
}

/** The issuer identifier: APP_URL and the mount path. */
export function oidcIssuer(): string {
  return `${appUrl.replace(/\/+$/, '')}${OIDC_MOUNT}`
}

/** Renders one of Quad's Edge pages in the request's language. */
export type OidcPageRenderer = (page: string, data: Record<string, unknown>) => Promise<string>

/** What the HTTP adapter knows about a request that the provider needs. */
export interface OidcRequestState {
  /** Who the portal session says is at the browser, if anyone. */
  portal: PortalIdentity | null
  render: OidcPageRenderer
  /** Security headers (content security policy and the like) for the pages the provider shows. */
  pageHeaders: Record<string, string>
}

const requests = new WeakMap<ServerResponse, OidcRequestState>()

/** Attaches a request's state before the provider handles it. */
export function bindOidcRequest(res: ServerResponse, state: OidcRequestState) {
  requests.set(res, state)
}

const stateOf = (ctx: KoaContextWithOIDC): OidcRequestState | undefined => requests.get(ctx.res)

const pathOf = (url: string) => new URL(url).pathname

/**
 * A content security policy whose form-action also allows some origins.
 * Browsers apply form-action to every redirect after a form is sent, so a
 * form whose answer redirects to an app must name the app's origin.
 */
function allowFormAction(csp: string, origins: string[]): string {
  if (origins.length === 0) return csp
  return csp
    .split(';')
    .map((directive) => {
      const trimmed = directive.trim()
      return trimmed.startsWith('form-action ') ? `${trimmed} ${origins.join(' ')}` : trimmed
    })
    .join('; ')
}

/** Answers with one of Quad's pages, under the console's security headers. */
async function renderPage(
  ctx: KoaContextWithOIDC,
  page: string,
  data: Record<string, unknown>,
  formTargets: string[] = []
) {
  const state = stateOf(ctx)
  ctx.type = 'html'
  if (!state) {
    ctx.body = '<!DOCTYPE html><title>Quad</title>'
    return
  }
  const origins = [...new Set(formTargets.map((url) => URL.parse(url)?.origin ?? 'null'))].filter(
    (origin) => origin !== 'null'
  )
  for (const [name, value] of Object.entries(state.pageHeaders)) {
    ctx.set(name, name === 'content-security-policy' ? allowFormAction(value, origins) : value)
  }
  ctx.body = await state.render(page, data)
}

const appNameOf = (ctx: KoaContextWithOIDC): string | null =>
  ctx.oidc?.client?.clientName ?? ctx.oidc?.client?.clientId ?? null

/** The reason a device code was not accepted, as a key of apps.device.problems. */
function deviceProblem(out: { error?: string } | undefined, error: any): string | null {
  if (!error) return null
  switch (error.name) {
    case 'NoCodeError':
      return 'no_code'
    case 'NotFoundError':
      return 'not_found'
    case 'ExpiredError':
      return 'expired'
    case 'AlreadyUsedError':
      return 'used'
    case 'AbortedError':
      return error.cause ? 'refused' : 'aborted'
    default:
      return out?.error === 'access_denied' ? 'refused' : 'failed'
  }
}

const { Check, base } = interactionPolicy

/**
 * The interaction policy: the provider's own login and consent prompts,
 * plus Quad's rules. A disabled app refuses at once; a provider session
 * whose person is not the portal's (signed out, someone else signed in)
 * needs a new login, which the portal answers; a person outside the app's
 * audience is refused with access_denied after sign-in.
 */
function policy() {
  const prompts = base()
  const login = prompts.get('login')!
  const consent = prompts.get('consent')!
  login.checks.add(
    new Check('quad_app_disabled', 'the app is disabled in the app center', (ctx) => {
      if (ctx.oidc.client.quad_enabled === false) {
        throw new errors.AccessDenied('the app is disabled in the app center')
      }
      return Check.NO_NEED_TO_PROMPT
    }),
    0
  )
  login.checks.add(
    new Check('quad_portal_session', 'the portal session does not vouch for this person', (ctx) => {
      const portal = stateOf(ctx)?.portal
      return !portal || portal.personPublicId !== ctx.oidc.session.accountId
    })
  )
  consent.checks.add(
    new Check('quad_app_audience', 'the person may not use this app', async (ctx) => {
      const app = await CampusApp.findBy('public_id', ctx.oidc.client.quad_app)
      const portal = stateOf(ctx)?.portal
      const person =
        portal && portal.personPublicId === ctx.oidc.session.accountId
          ? { id: portal.personId }
          : await Person.findBy('public_id', ctx.oidc.session.accountId)
      const personId = person?.id
      if (!app || personId === undefined || !(await personMayUseApp(app, personId))) {
        throw new errors.AccessDenied('the person may not use this app')
      }
      return Check.NO_NEED_TO_PROMPT
    }),
    0
  )
  return prompts
}

/**
 * The grant a sign-in continues. School-owned apps need no consent: their
 * grant is extended with whatever allowed scopes they ask for. Other apps
 * keep what the person consented to, and are asked again for anything new.
 */
async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId)
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined
  if (oidc.client.quad_first_party !== true) return existing
  const grant =
    existing && existing.accountId === oidc.account.accountId
      ? existing
      : new oidc.provider.Grant({
          accountId: oidc.account.accountId,
          clientId: oidc.client.clientId,
        })
  const scopes = [...oidc.requestParamOIDCScopes].join(' ')
  if (scopes) grant.addOIDCScope(scopes)
  await grant.save()
  return grant
}

/** The provider's configuration; functions here run inside its requests. */
function configuration() {
  const appKey = env.get('APP_KEY').release()
  return {
    adapter: oidcAdapter,
    clients: [],
    findAccount: (_ctx: KoaContextWithOIDC, sub: string) => findOidcAccount(sub),
    claims: { acr: null, sid: null, auth_time: null, iss: null, ...OIDC_CLAIMS },
    scopes: [...OIDC_SCOPES],
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // Apps that decode only the ID token (most campus apps) find the
    // profile there as well as at the userinfo endpoint.
    conformIdTokenClaims: false,
    enabledJWA: { idTokenSigningAlgValues: [...ID_TOKEN_ALGS] },
    jwks: { keys: oidcSigningKeys() },
    cookies: {
      names: {
        session: 'quad_oidc_session',
        interaction: 'quad_oidc_interaction',
        resume: 'quad_oidc_resume',
      },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
      // Derived from the app key, so that every web process signs alike.
      keys: [createHmac('sha256', appKey).update('quad:oidc-cookies').digest('base64url')],
    },
    discovery: { claim_types_supported: ['normal'], ui_locales_supported: ['zh-CN', 'en'] },
    extraClientMetadata: {
      properties: ['quad_app', 'quad_enabled', 'quad_first_party'],
      validator: () => undefined,
    },
    pkce: {
      // A public client cannot keep a secret: PKCE is what binds its code.
      required: (_ctx: KoaContextWithOIDC, client: any) => client.clientAuthMethod === 'none',
    },
    interactions: {
      policy: policy(),
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) =>
        `${INTERACTION_PATH}/${interaction.uid}`,
    },
    loadExistingGrant,
    clientBasedCORS(ctx: KoaContextWithOIDC, origin: string, client: any) {
      if (origin === 'null') return false
      if (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none') {
        return client.redirectUris.some((uri: string) => URL.parse(uri)?.origin === origin)
      }
      return false
    },
    ttl: {
      AccessToken: OIDC_TTL.accessToken,
      AuthorizationCode: OIDC_TTL.authorizationCode,
      IdToken: OIDC_TTL.idToken,
      DeviceCode: OIDC_TTL.deviceCode,
      Interaction: OIDC_TTL.interaction,
      Session: OIDC_TTL.session,
      Grant: OIDC_TTL.grant,
      RefreshToken(ctx: KoaContextWithOIDC, token: any, client: any) {
        // A rotated refresh token of a browser app without a secret keeps
        // the lifetime of the one it replaced, so it cannot live for ever.
        if (
          ctx?.oidc?.entities.RotatedRefreshToken &&
          client.applicationType === 'web' &&
          client.clientAuthMethod === 'none' &&
          !token.isSenderConstrained()
        ) {
          return ctx.oidc.entities.RotatedRefreshToken.remainingTTL
        }
        return OIDC_TTL.refreshToken
      },
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: { enabled: false },
      userinfo: { enabled: true },
      introspection: {
        enabled: true,
        // Tokens of a disabled app or of a person who may no longer sign
        // in are inactive; a public client sees only its own tokens.
        async allowedPolicy(ctx: KoaContextWithOIDC, client: any, token: any) {
          if (client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client.clientId) {
            return false
          }
          if (token.clientId && !(await ctx.oidc.provider.Client.find(token.clientId))) return false
          if (token.accountId && !(await accountIsActive(token.accountId))) return false
          return true
        },
      },
      revocation: {
        enabled: true,
        // An app revokes only its own tokens.
        allowedPolicy(_ctx: KoaContextWithOIDC, client: any, token: any) {
          if (token.clientId !== client.clientId) {
            if (client.clientAuthMethod === 'none') return false
            throw new errors.InvalidRequest(
              'client is not authorized to revoke the presented token'
            )
          }
          return true
        },
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        async userCodeInputSource(ctx: KoaContextWithOIDC, _form: string, out: any, error: any) {
          await renderPage(ctx, 'pages/app_center/oidc/device_input', {
            action: pathOf(ctx.oidc.urlFor('code_verification')),
            xsrf: ctx.oidc.session.state.secret,
            userCode: typeof error?.userCode === 'string' ? error.userCode : '',
            problem: deviceProblem(out, error),
          })
        },
        async userCodeConfirmSource(
          ctx: KoaContextWithOIDC,
          _form: string,
          client: any,
          _deviceInfo: unknown,
          userCode: string
        ) {
          await renderPage(ctx, 'pages/app_center/oidc/device_confirm', {
            action: pathOf(ctx.oidc.urlFor('code_verification')),
            xsrf: ctx.oidc.session.state.secret,
            userCode,
            appName: client.clientName ?? client.clientId,
          })
        },
        async successSource(ctx: KoaContextWithOIDC) {
          await renderPage(ctx, 'pages/app_center/oidc/device_done', { appName: appNameOf(ctx) })
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: KoaContextWithOIDC) {
          // Confirming sends the browser on to the app's post-logout address.
          const returnTo = ctx.oidc.session.state?.postLogoutRedirectUri
          await renderPage(
            ctx,
            'pages/app_center/oidc/logout',
            {
              action: pathOf(ctx.oidc.urlFor('end_session_confirm')),
              xsrf: ctx.oidc.session.state.secret,
              appName: appNameOf(ctx),
            },
            typeof returnTo === 'string' ? [returnTo] : []
          )
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          await renderPage(ctx, 'pages/app_center/oidc/logged_out', { appName: appNameOf(ctx) })
        },
      },
    },
    async renderError(
      ctx: KoaContextWithOIDC,
      out: { error?: string; error_description?: string }
    ) {
      await renderPage(ctx, 'pages/app_center/oidc/error', {
        code: out.error ?? 'server_error',
        description: out.error_description ?? null,
      })
    },
  }
}

/**
 * Ends the portal session when an app asks to sign the person out
 * everywhere (RP-initiated logout, "sign out" confirmed). Runs before the
 * provider answers, so the app's next sign-in already finds no session.
 */
async function endPortalOnLogout(
  provider: Provider,
  ctx: KoaContextWithOIDC,
  next: () => Promise<void>
) {
  let signedOut: string | null = null
  const listener = (logoutCtx: KoaContextWithOIDC) => {
    if (logoutCtx === ctx && logoutCtx.oidc.params?.logout) {
      signedOut = logoutCtx.oidc.session?.accountId ?? null
    }
  }
  provider.on('end_session.success', listener)
  try {
    await next()
  } finally {
    provider.off('end_session.success', listener)
  }
  const portal = stateOf(ctx)?.portal
  // Only the person the provider session belonged to: when the portal now
  // has someone else, the provider is merely switching people.
  if (signedOut && portal && portal.personPublicId === signedOut) await endPortalIdentity(portal)
}

function build(): Provider {
  const provider = new Provider(oidcIssuer(), configuration())
  // Errors are logged here once, through Quad's logger.
  provider.silent = true
  // Secrets are stored as digests; the provider compares what a client presents.
  provider.Client.prototype.compareClientSecret = function (
    this: { clientSecret?: string },
    presented: string
  ) {
    return clientSecretMatches(this.clientSecret, presented)
  }
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    logger.error({ err: error, path: ctx.path }, 'OpenID Connect provider failed')
  })
  provider.use((ctx, next) =>
    ctx.path === '/session/end/confirm' && ctx.method === 'POST'
      ? endPortalOnLogout(provider, ctx, next)
      : next()
  )
  return provider
}

let current: { provider: Provider; keys: string } | null = null

/**
 * The provider of this process, built on first use and rebuilt when the
 * signing keys have been rotated (by this or another process).
 */
export function oidcProvider(): Provider {
  const keys = keyringVersion()
  if (current && current.keys === keys) return current.provider
  const provider = build()
  current = { provider, keys: keyringVersion() }
  return provider
}

/** Forgets the built provider (tests that change the storage root or keys). */
export function forgetOidcProvider() {
  current = null
}
