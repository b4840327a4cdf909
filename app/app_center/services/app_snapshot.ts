import type CampusApp from '#app_center/models/campus_app'

/**
 * What the audit log keeps of an app before and after a change: every
 * setting a reviewer may ask about, never the secret's digest.
 */
export function appSnapshot(app: CampusApp, audiencePublicId: string | null) {
  return {
    nameZh: app.nameZh,
    nameEn: app.nameEn,
    description: app.description,
    category: app.category,
    kind: app.kind,
    launchUrl: app.launchUrl,
    redirectUris: app.redirectUris,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    casService: app.casService,
    casServiceMatch: app.casServiceMatch,
    audience: audiencePublicId,
    partnerZone: app.partnerZone,
    sortOrder: app.sortOrder,
    enabled: app.enabled,
    firstParty: app.firstParty,
    oidcClientId: app.oidcClientId,
    publicClient: app.publicClient,
    // Named so that the audit log's secret filter (which drops "token…" keys) keeps it.
    clientAuthMethod: app.tokenEndpointAuthMethod,
    allowedScopes: app.allowedScopes,
    grantTypes: app.grantTypes,
    idTokenAlg: app.idTokenAlg,
    icon: app.iconPath !== null,
  }
}

export type AppSnapshot = ReturnType<typeof appSnapshot>

/** The names of the settings that differ between two snapshots. */
export function changedSettings(before: AppSnapshot, after: AppSnapshot): string[] {
  return (Object.keys(after) as (keyof AppSnapshot)[]).filter(
    (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])
  )
}
