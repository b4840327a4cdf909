import vine from '@vinejs/vine'
import {
  APP_CATEGORIES,
  APP_KINDS,
  CAS_SERVICE_MATCHES,
  GRANT_TYPES,
  ID_TOKEN_ALGS,
  OIDC_SCOPES,
} from '#app_center/services/app_rules'

/** A public id (ULID, Crockford base32). */
export const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** The public id in /console/apps/:publicId and /portal/apps/:publicId/launch. */
export const appParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/**
 * The app form. Shapes and lengths only: the app center's own rules
 * (redirect URI shapes, CAS patterns, scopes that need grant types) are
 * checked by the SaveApp action.
 */
export const appFormValidator = vine.create({
  nameZh: vine.string().trim().maxLength(80),
  nameEn: vine.string().trim().maxLength(120).optional(),
  description: vine.string().trim().maxLength(500).optional(),
  category: vine.enum(APP_CATEGORIES),
  kind: vine.enum(APP_KINDS),
  launchUrl: vine.string().trim().maxLength(2048).optional(),
  redirectUris: vine.string().maxLength(45_000).optional(),
  postLogoutRedirectUris: vine.string().maxLength(45_000).optional(),
  casService: vine.string().trim().maxLength(2048).optional(),
  casServiceMatch: vine.enum(CAS_SERVICE_MATCHES).optional(),
  audience: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  partnerZone: vine.boolean().optional(),
  sortOrder: vine.number().withoutDecimals().range([-9999, 9999]).optional(),
  enabled: vine.boolean().optional(),
  firstParty: vine.boolean().optional(),
  publicClient: vine.boolean().optional(),
  tokenEndpointAuthMethod: vine
    .enum(['client_secret_basic', 'client_secret_post'] as const)
    .optional(),
  allowedScopes: vine.array(vine.enum(OIDC_SCOPES)).maxLength(OIDC_SCOPES.length).optional(),
  grantTypes: vine.array(vine.enum(GRANT_TYPES)).maxLength(GRANT_TYPES.length).optional(),
  idTokenAlg: vine.enum(ID_TOKEN_ALGS).optional(),
  removeIcon: vine.boolean().optional(),
})

/** The decision on the consent page. */
export const consentValidator = vine.create({
  decision: vine.enum(['allow', 'deny'] as const),
})

/** The interaction id in /portal/authorize/:uid (the provider's nanoid). */
export const interactionParamsValidator = vine.create({
  uid: vine.string().regex(/^[A-Za-z0-9_-]{10,64}$/),
})
