import type { HttpContext } from '@adonisjs/core/http'
import { currentPortalSession, type PortalContext } from '#identity/http/portal_session'
import type { PortalIdentity } from '#app_center/services/portal_identity'

/**
 * The app center's door to the portal's single sign-on session: reads the
 * request's portal session through the portal's own service and hands the
 * provider a plain identity.
 */

export function identityOf(portal: PortalContext): PortalIdentity {
  return {
    personId: portal.person.id,
    personPublicId: portal.person.publicId,
    name: portal.person.name,
    sessionPublicId: portal.session.publicId,
    authenticatedAt: portal.session.createdAt,
  }
}

/** The person signed in to the portal in this browser, or null. */
export async function portalIdentity(ctx: HttpContext): Promise<PortalIdentity | null> {
  const portal = ctx.portal ?? (await currentPortalSession(ctx))
  return portal ? identityOf(portal) : null
}

/**
 * The portal's sign-in page, returning to `next` afterwards. The portal only
 * honours /portal paths, so every page an app's sign-in passes through lives
 * there.
 */
export function portalSignInUrl(next: string): string {
  return `/portal/login?next=${encodeURIComponent(next)}`
}
