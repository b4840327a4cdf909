import type { HttpContext } from '@adonisjs/core/http'
import { randomBytes } from 'node:crypto'
import { recordAudit } from '#core/services/audit'
import {
  clearPortalCookie,
  currentPortalSession,
  portalActorFrom,
  type PortalContext,
} from '#identity/http/portal_session'
import { endPortalSession } from '#identity/services/portal_sessions'
import { personMayUseApp } from '#app_center/services/app_visibility'
import { portalSignInUrl } from '#app_center/http/portal_gate'
import {
  findCasApp,
  issueServiceTicket,
  serviceWithTicket,
  validateServiceTicket,
} from '#app_center/services/cas_tickets'
import {
  casFormat,
  failureResponse,
  successResponse,
  type CasBody,
} from '#app_center/services/cas_responses'
import { singleLogout } from '#app_center/services/cas_logout'

/**
 * Quad's CAS server (docs/integrating-apps.md#cas). Sign-in is the portal
 * session: /cas/login never asks for a password itself; it sends the
 * browser through the portal's sign-in and back by /portal/cas/:state.
 */

interface LoginState {
  /** The service URL. */
  s: string
  /** Sign-in at or after this time (ms) counts as a new login. */
  t: number
  /** renew=true: a sign-in older than `t` is not enough. */
  r: boolean
}

/** Pending CAS sign-ins kept in the browser's session, and for how long. */
const STATE_KEY = 'cas_logins'
const STATE_MAX = 5
const STATE_LIFETIME_MS = 15 * 60 * 1000

function flag(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.toLowerCase() !== 'false'
}

function pendingLogins(ctx: HttpContext): Record<string, LoginState> {
  const stored: unknown = ctx.session.get(STATE_KEY)
  const fresh: Record<string, LoginState> = {}
  if (stored && typeof stored === 'object') {
    for (const [id, state] of Object.entries(stored as Record<string, LoginState>)) {
      if (state && Date.now() - state.t < STATE_LIFETIME_MS) fresh[id] = state
    }
  }
  return fresh
}

/**
 * Keeps the login request in this browser's session and returns the short
 * /portal path that resumes it after the portal's sign-in. The path names
 * the request by a random id, so it can be neither made up nor used in
 * another browser.
 */
function statePath(ctx: HttpContext, state: LoginState): string {
  const id = randomBytes(16).toString('base64url')
  const pending = Object.entries(pendingLogins(ctx)).slice(-(STATE_MAX - 1))
  ctx.session.put(STATE_KEY, Object.fromEntries([...pending, [id, state]]))
  return `/portal/cas/${id}`
}

function takeState(ctx: HttpContext, id: string): LoginState | null {
  const pending = pendingLogins(ctx)
  const state = Object.hasOwn(pending, id) ? pending[id] : null
  if (state) {
    delete pending[id]
    ctx.session.put(STATE_KEY, pending)
  }
  return state
}

function send(ctx: HttpContext, answer: CasBody) {
  ctx.response.header('Cache-Control', 'no-store')
  ctx.response.header('Content-Type', answer.contentType)
  return ctx.response.send(answer.body)
}

export default class CasController {
  private refuse(ctx: HttpContext, status: number, code: string) {
    ctx.response.status(status)
    ctx.response.header('Cache-Control', 'no-store')
    return ctx.view.render('pages/app_center/cas/error', { code })
  }

  /** GET /cas/login?service=…[&renew=true][&gateway=true] */
  async login(ctx: HttpContext) {
    const service = ctx.request.input('service')
    if (service === undefined || service === null || service === '') {
      return ctx.response.redirect('/portal')
    }
    const app = await findCasApp(service)
    if (!app) return this.refuse(ctx, 400, 'unknown_service')
    const renew = flag(ctx.request.input('renew'))
    const gateway = !renew && flag(ctx.request.input('gateway'))
    const portal = await currentPortalSession(ctx)
    if (renew && portal) {
      // A fresh sign-in: this browser's portal session ends and the person signs in again.
      await endPortalSession(portal.session.publicId, 'signed_out')
      clearPortalCookie(ctx)
    }
    if (!portal || renew) {
      if (gateway) return ctx.response.redirect(service)
      return ctx.response.redirect(
        portalSignInUrl(statePath(ctx, { s: service, t: Date.now(), r: renew }))
      )
    }
    return this.grant(ctx, portal, service, false, false)
  }

  /** GET /portal/cas/:state — back from the portal's sign-in (behind portalAuth). */
  async resume(ctx: HttpContext) {
    const state = takeState(ctx, String(ctx.params.state))
    if (!state) return this.refuse(ctx, 400, 'request_expired')
    const portal = ctx.portal!
    const fresh = portal.session.createdAt.toMillis() >= state.t - 1000
    if (state.r && !fresh) {
      return ctx.response.redirect(`/cas/login?service=${encodeURIComponent(state.s)}&renew=true`)
    }
    return this.grant(ctx, portal, state.s, fresh, true)
  }

  /**
   * Hands the signed-in person a ticket for the service. After the portal's
   * sign-in form the browser continues by a page rather than a redirect:
   * browsers hold redirects after a form to the form-action policy.
   */
  private async grant(
    ctx: HttpContext,
    portal: PortalContext,
    service: string,
    fromNewLogin: boolean,
    byPage: boolean
  ) {
    const app = await findCasApp(service)
    if (!app) return this.refuse(ctx, 400, 'unknown_service')
    if (!(await personMayUseApp(app, portal.person.id))) {
      return this.refuse(ctx, 403, 'access_denied')
    }
    const ticket = await issueServiceTicket({
      app,
      service,
      personId: portal.person.id,
      portalSessionId: portal.session.id,
      authenticatedAt: portal.session.createdAt,
      fromNewLogin,
      actor: portalActorFrom(ctx, portal.person),
    })
    const destination = serviceWithTicket(service, ticket)
    ctx.response.header('Cache-Control', 'no-store')
    if (!byPage) return ctx.response.redirect(destination)
    ctx.response.header('Refresh', `0;url=${destination}`)
    return ctx.view.render('pages/app_center/oidc/continue', { url: destination })
  }

  private async validate(ctx: HttpContext, withAttributes: boolean) {
    const format = casFormat(ctx.request.input('format'))
    try {
      const result = await validateServiceTicket({
        ticket: ctx.request.input('ticket'),
        service: ctx.request.input('service'),
        renew: flag(ctx.request.input('renew')),
      })
      if (!result.ok) {
        const description = String(result.details?.description ?? result.error)
        return send(ctx, failureResponse(format, result.error, description))
      }
      // Proxy-granting tickets are not issued: a pgtUrl is ignored, which the
      // protocol answers as a failed callback (a success without an IOU).
      const { user, attributes } = result.value
      return send(ctx, successResponse(format, user, withAttributes ? attributes : null))
    } catch (error) {
      ctx.logger.error({ err: error }, 'CAS ticket validation failed')
      return send(
        ctx,
        failureResponse(format, 'INTERNAL_ERROR', 'The ticket could not be checked.')
      )
    }
  }

  /** GET /cas/serviceValidate and /cas/proxyValidate (CAS 2.0: the user only). */
  serviceValidate(ctx: HttpContext) {
    return this.validate(ctx, false)
  }

  /** GET /cas/p3/serviceValidate and /cas/p3/proxyValidate (CAS 3.0: with attributes). */
  p3ServiceValidate(ctx: HttpContext) {
    return this.validate(ctx, true)
  }

  /** GET /cas/validate (CAS 1.0): "yes\n<user>\n" or "no\n\n". */
  async validateV1(ctx: HttpContext) {
    const result = await validateServiceTicket({
      ticket: ctx.request.input('ticket'),
      service: ctx.request.input('service'),
      renew: flag(ctx.request.input('renew')),
    })
    ctx.response.header('Cache-Control', 'no-store')
    ctx.response.header('Content-Type', 'text/plain; charset=utf-8')
    return ctx.response.send(result.ok ? `yes\n${result.value.user}\n` : 'no\n\n')
  }

  /** GET /cas/proxy: Quad issues no proxy-granting tickets, so no proxy tickets either. */
  proxy(ctx: HttpContext) {
    const format = casFormat(ctx.request.input('format'))
    const pgt = ctx.request.input('pgt')
    const target = ctx.request.input('targetService')
    if (!pgt || !target) {
      return send(
        ctx,
        failureResponse(
          format,
          'INVALID_REQUEST',
          'Both pgt and targetService are required.',
          'proxyFailure'
        )
      )
    }
    return send(
      ctx,
      failureResponse(
        format,
        'UNAUTHORIZED_SERVICE_PROXY',
        'Quad does not issue proxy-granting tickets; no service may proxy.',
        'proxyFailure'
      )
    )
  }

  /** GET /cas/logout[?service=…]: ends the portal session and signs the person out of its apps. */
  async logout(ctx: HttpContext) {
    const portal = await currentPortalSession(ctx)
    if (portal) {
      await endPortalSession(portal.session.publicId, 'signed_out')
      clearPortalCookie(ctx)
      const notified = await singleLogout(portal.session.id)
      await recordAudit(portalActorFrom(ctx, portal.person), {
        action: 'apps.cas_logout',
        subjectType: 'person',
        subjectId: portal.person.publicId,
        meta: { servicesNotified: notified },
      })
    }
    ctx.response.header('Cache-Control', 'no-store')
    const service = ctx.request.input('service') ?? ctx.request.input('url')
    if (service && (await findCasApp(service))) return ctx.response.redirect(service)
    return ctx.view.render('pages/app_center/cas/signed_out', {})
  }
}
