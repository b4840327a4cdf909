import type { HttpContext } from '@adonisjs/core/http'
import quadConfig from '#config/quad'
import type Person from '#identity/models/person'
import type PortalSession from '#identity/models/portal_session'
import type { PortalSessionEnd } from '#identity/models/portal_session'
import {
  personActor,
  resolvePortalSession,
  type StartedPortalSession,
} from '#identity/services/portal_sessions'
import { tlsEnabled } from '#appliance/services/https_server'

/**
 * The portal session as HTTP sees it: one cookie holding the session's
 * secret. HttpOnly (no script reads it), Secure whenever Quad serves HTTPS,
 * SameSite=Lax (sent when a campus app redirects to the portal, not with
 * cross-site form posts). Without "remember this device" it is a browser
 * session cookie.
 */
export const PORTAL_COOKIE = 'quad_portal'

export interface PortalContext {
  person: Person
  session: PortalSession
}

declare module '@adonisjs/core/http' {
  interface HttpContext {
    /** The signed-in person and their portal session, set by the portalAuth middleware. */
    portal?: PortalContext
    /** Memo of currentPortalSession for this request. */
    portalLookup?: Promise<PortalLookupResult>
  }
}

export type PortalLookupResult =
  { ok: true; portal: PortalContext } | { ok: false; reason: PortalSessionEnd | 'unknown' | 'none' }

function lookup(ctx: HttpContext): Promise<PortalLookupResult> {
  ctx.portalLookup ??= (async (): Promise<PortalLookupResult> => {
    const secret = ctx.request.plainCookie(PORTAL_COOKIE, { encoded: false })
    if (!secret) return { ok: false, reason: 'none' }
    const found = await resolvePortalSession(secret)
    if (!found.ok) return { ok: false, reason: found.reason }
    return { ok: true, portal: { person: found.person, session: found.session } }
  })()
  return ctx.portalLookup
}

/**
 * The request's portal session and person, or null. This is what single
 * sign-on (OIDC, CAS) asks before it vouches for someone.
 */
export async function currentPortalSession(ctx: HttpContext): Promise<PortalContext | null> {
  const found = await lookup(ctx)
  return found.ok ? found.portal : null
}

/** Why the request has no usable portal session. */
export async function portalSessionProblem(
  ctx: HttpContext
): Promise<PortalSessionEnd | 'unknown' | 'none' | null> {
  const found = await lookup(ctx)
  return found.ok ? null : found.reason
}

/** Hands the new session's secret to the browser. */
export function setPortalCookie(ctx: HttpContext, started: StartedPortalSession) {
  const remembered = started.session.remembered
  ctx.response.plainCookie(PORTAL_COOKIE, started.secret, {
    path: '/',
    httpOnly: true,
    secure: tlsEnabled(),
    sameSite: 'lax',
    encode: false,
    // A remembered session survives closing the browser; the server's
    // expiry stays the real limit.
    maxAge: remembered ? quadConfig.portal.rememberedLifetimeSeconds : undefined,
  })
  ctx.portalLookup = undefined
}

export function clearPortalCookie(ctx: HttpContext) {
  ctx.response.clearCookie(PORTAL_COOKIE, { path: '/' })
}

/** The audit actor of a portal request by a signed-in person. */
export function portalActorFrom(ctx: HttpContext, person: Person) {
  return personActor(person, {
    ip: ctx.request.ip(),
    userAgent: ctx.request.header('user-agent') ?? null,
  })
}

/** The request's address and browser, for actions that record them. */
export function requestOrigin(ctx: HttpContext) {
  return { ip: ctx.request.ip(), userAgent: ctx.request.header('user-agent') ?? null }
}

/**
 * A path to return to after sign-in: only a portal path on this site, so
 * that the parameter can never send someone elsewhere.
 */
export function safePortalNext(value: unknown): string | null {
  if (typeof value !== 'string') return null
  if (!/^\/portal(\/[\w\-./]*)?$/.test(value) || value.includes('//') || value.includes('..'))
    return null
  return value
}
