import type { Interaction, Provider } from 'oidc-provider'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { isOidcScope, type OidcScope } from '#app_center/services/app_rules'
import type CampusApp from '#app_center/models/campus_app'

/**
 * Consent: what an app may learn about a person. School-owned apps are
 * granted their requested scopes without a question; other apps show the
 * person a consent page, and this records the answer.
 */

/** The scopes an interaction asks the person about, in the app center's order. */
export function requestedScopes(interaction: Interaction): OidcScope[] {
  const asked = new Set(String(interaction.params.scope ?? '').split(' '))
  return (['openid', 'profile', 'email', 'phone', 'campus', 'offline_access'] as const).filter(
    (scope) => asked.has(scope) && isOidcScope(scope)
  )
}

/**
 * Grants what a consent interaction asks for (scopes and claims not yet
 * granted) to the grant it continues, or a new one. Returns the grant id.
 */
export async function grantInteraction(
  provider: Provider,
  interaction: Interaction
): Promise<string> {
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[]
    missingOIDCClaims?: string[]
  }
  const accountId = interaction.session?.accountId
  if (!accountId) throw new Error('a consent interaction without a signed-in person')
  const found = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined
  const grant =
    found ?? new provider.Grant({ accountId, clientId: String(interaction.params.client_id) })
  if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '))
  if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims)
  return grant.save()
}

/** Records a person's consent decision for an app. */
export async function recordConsent(
  actor: AuditActor,
  app: CampusApp,
  scopes: OidcScope[],
  allowed: boolean
) {
  await recordAudit(actor, {
    action: allowed ? 'apps.consent_given' : 'apps.consent_refused',
    subjectType: 'app',
    subjectId: app.publicId,
    outcome: allowed ? 'success' : 'denied',
    meta: { scopes },
  })
}
