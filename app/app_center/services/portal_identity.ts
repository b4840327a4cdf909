import type { DateTime } from 'luxon'
import { endPortalSession } from '#identity/services/portal_sessions'

/**
 * Who the portal says is at the browser: what single sign-on needs of a
 * portal session. The HTTP adapter (app/app_center/http/portal_gate.ts)
 * reads it from the request through the portal's own session service; the
 * provider only ever sees this plain value.
 */
export interface PortalIdentity {
  /** Internal id of the person, for audience checks and launch counts. */
  personId: number
  /** The person's public id: the stable `sub` every app receives. */
  personPublicId: string
  name: string
  /** Public id of the portal session. */
  sessionPublicId: string
  /** When the person proved who they are (the session's start). */
  authenticatedAt: DateTime
}

/**
 * Ends the portal session behind an identity: an app asked to sign the
 * person out everywhere (OpenID Connect RP-initiated logout).
 */
export async function endPortalIdentity(identity: PortalIdentity): Promise<void> {
  await endPortalSession(identity.sessionPublicId, 'signed_out')
}
