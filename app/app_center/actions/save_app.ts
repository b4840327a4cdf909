import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Audience from '#identity/models/audience'
import CampusApp from '#app_center/models/campus_app'
import {
  checkCasService,
  checkLaunchUrl,
  checkRedirectUri,
  DEVICE_CODE_GRANT,
  isAppCategory,
  isAppKind,
  isCasServiceMatch,
  isGrantType,
  isIdTokenAlg,
  isOidcScope,
  isTokenAuthMethod,
  MAX_REDIRECT_URIS,
  type AppCategory,
  type AppKind,
  type CasServiceMatch,
  type GrantType,
  type IdTokenAlg,
  type OidcScope,
  type TokenAuthMethod,
} from '#app_center/services/app_rules'
import { appSnapshot, changedSettings } from '#app_center/services/app_snapshot'
import { removeAppIcon, storeAppIcon } from '#app_center/services/app_icons'
import {
  clientSecretDigest,
  newClientId,
  newClientSecret,
} from '#app_center/services/client_secrets'

/**
 * An app's settings as the console form (or a script) hands them over. The
 * kind is fixed once the app exists: an OpenID Connect client id must keep
 * meaning the same app.
 */
export interface AppInput {
  nameZh: string
  nameEn?: string | null
  description?: string | null
  category: AppCategory
  kind: AppKind
  launchUrl?: string | null
  redirectUris?: string[]
  postLogoutRedirectUris?: string[]
  casService?: string | null
  casServiceMatch?: CasServiceMatch | null
  /** Public id of the audience that may see and use the app; null for everyone. */
  audience?: string | null
  partnerZone?: boolean
  sortOrder?: number
  enabled?: boolean
  firstParty?: boolean
  /** A client without a secret (phone, single-page or kiosk app): PKCE is required. */
  publicClient?: boolean
  tokenEndpointAuthMethod?: TokenAuthMethod | null
  allowedScopes?: OidcScope[]
  grantTypes?: GrantType[]
  idTokenAlg?: IdTokenAlg
  /** A file to take as the icon (copied); null removes the icon; undefined keeps it. */
  icon?: { sourcePath: string } | null
}

export type AppField = keyof AppInput

/** Why a field was refused; adapters translate `apps.errors.<code>`. */
export interface AppFieldError {
  field: AppField
  code: string
}

export type SaveAppMode = { mode: 'create' } | { mode: 'update'; publicId: string }

export type SaveAppError = 'invalid' | 'not_found'

export interface SavedApp {
  app: CampusApp
  created: boolean
  /** A client secret made by this save (a new confidential client): shown once, never stored. */
  secret: string | null
  changed: string[]
}

/** The field errors of a failed save, or an empty list. */
export function appFieldErrorsOf(result: Result<unknown, string>): AppFieldError[] {
  if (result.ok) return []
  return (result.details?.errors as AppFieldError[] | undefined) ?? []
}

/** The columns a valid input sets. */
type AppColumns = Pick<
  CampusApp,
  | 'nameZh'
  | 'nameEn'
  | 'description'
  | 'category'
  | 'kind'
  | 'launchUrl'
  | 'redirectUris'
  | 'postLogoutRedirectUris'
  | 'casService'
  | 'casServiceMatch'
  | 'audienceId'
  | 'partnerZone'
  | 'sortOrder'
  | 'enabled'
  | 'firstParty'
  | 'publicClient'
  | 'tokenEndpointAuthMethod'
  | 'allowedScopes'
  | 'grantTypes'
  | 'idTokenAlg'
>

const blank = (value: string | null | undefined) => {
  const trimmed = value?.trim()
  return trimmed ? trimmed : null
}

/**
 * Applies the app center's rules to an input. Returns the columns to write
 * or the list of field errors; looks nothing up except the audience.
 */
async function checkInput(
  input: AppInput,
  existing: CampusApp | null,
  trx: TransactionClientContract
): Promise<{ columns: AppColumns; errors: AppFieldError[] }> {
  const errors: AppFieldError[] = []
  const refuse = (field: AppField, code: string) => errors.push({ field, code })

  const nameZh = blank(input.nameZh)
  if (!nameZh) refuse('nameZh', 'name_required')
  else if (nameZh.length > 80) refuse('nameZh', 'name_length')
  const nameEn = blank(input.nameEn)
  if (nameEn && nameEn.length > 120) refuse('nameEn', 'name_length')
  const description = blank(input.description)
  if (description && description.length > 500) refuse('description', 'description_length')
  if (!isAppCategory(input.category)) refuse('category', 'category_invalid')

  const kind = existing ? existing.kind : input.kind
  if (!isAppKind(kind)) refuse('kind', 'kind_invalid')
  else if (existing && input.kind !== existing.kind) refuse('kind', 'kind_fixed')

  const launchUrl = blank(input.launchUrl)
  if (isAppKind(kind)) {
    const launchProblem = checkLaunchUrl(kind, launchUrl)
    if (launchProblem) refuse('launchUrl', launchProblem)
  }

  const sortOrder = input.sortOrder ?? 0
  if (!Number.isInteger(sortOrder) || sortOrder < -9999 || sortOrder > 9999) {
    refuse('sortOrder', 'sort_order_range')
  }

  let audienceId: number | null = null
  const audienceRef = blank(input.audience)
  if (audienceRef) {
    const audience = await Audience.query({ client: trx })
      .where('public_id', audienceRef.toUpperCase())
      .first()
    // An archived audience stays on the apps that already use it, but is
    // offered for nothing new.
    if (!audience || (audience.isArchived && existing?.audienceId !== audience.id)) {
      refuse('audience', 'audience_unknown')
    } else audienceId = audience.id
  }

  let redirectUris: string[] = []
  let postLogoutRedirectUris: string[] = []
  let grantTypes: GrantType[] = []
  let allowedScopes: OidcScope[] = []
  let tokenEndpointAuthMethod: TokenAuthMethod | null = null
  let publicClient = false
  let idTokenAlg: IdTokenAlg = 'RS256'
  if (kind === 'oidc') {
    redirectUris = input.redirectUris ?? []
    postLogoutRedirectUris = input.postLogoutRedirectUris ?? []
    grantTypes = [...new Set<GrantType>(input.grantTypes ?? ['authorization_code'])]
    allowedScopes = [...new Set(['openid' as const, ...(input.allowedScopes ?? [])])]
    publicClient = input.publicClient === true
    idTokenAlg = input.idTokenAlg ?? 'RS256'

    if (grantTypes.length === 0 || !grantTypes.every(isGrantType)) {
      refuse('grantTypes', 'grant_types_invalid')
    } else if (
      grantTypes.includes('refresh_token') &&
      !grantTypes.includes('authorization_code') &&
      !grantTypes.includes(DEVICE_CODE_GRANT)
    ) {
      refuse('grantTypes', 'refresh_needs_code')
    }
    if (!allowedScopes.every(isOidcScope)) refuse('allowedScopes', 'scopes_invalid')
    else if (allowedScopes.includes('offline_access') && !grantTypes.includes('refresh_token')) {
      refuse('allowedScopes', 'offline_needs_refresh')
    }
    if (!isIdTokenAlg(idTokenAlg)) refuse('idTokenAlg', 'id_token_alg_invalid')

    if (publicClient) tokenEndpointAuthMethod = 'none'
    else {
      tokenEndpointAuthMethod = input.tokenEndpointAuthMethod ?? 'client_secret_basic'
      if (!isTokenAuthMethod(tokenEndpointAuthMethod) || tokenEndpointAuthMethod === 'none') {
        refuse('tokenEndpointAuthMethod', 'auth_method_invalid')
      }
    }

    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
      refuse('redirectUris', 'redirect_uris_required')
    }
    for (const [field, list] of [
      ['redirectUris', redirectUris],
      ['postLogoutRedirectUris', postLogoutRedirectUris],
    ] as const) {
      if (list.length > MAX_REDIRECT_URIS) refuse(field, 'redirect_uris_too_many')
      const problem = list.map(checkRedirectUri).find((code) => code !== null)
      if (problem) refuse(field, problem)
    }
  }

  let casService: string | null = null
  let casServiceMatch: CasServiceMatch | null = null
  if (kind === 'cas') {
    casService = blank(input.casService)
    casServiceMatch = input.casServiceMatch ?? 'exact'
    const problem = isCasServiceMatch(casServiceMatch)
      ? checkCasService(casServiceMatch, casService)
      : 'cas_service_invalid'
    if (problem) refuse('casService', problem)
  }

  return {
    errors,
    columns: {
      nameZh: nameZh ?? '',
      nameEn,
      description,
      category: input.category,
      kind,
      launchUrl,
      redirectUris,
      postLogoutRedirectUris,
      casService,
      casServiceMatch,
      audienceId,
      partnerZone: input.partnerZone === true,
      sortOrder,
      enabled: input.enabled !== false,
      firstParty: input.firstParty === true,
      publicClient,
      tokenEndpointAuthMethod,
      allowedScopes,
      grantTypes,
      idTokenAlg,
    },
  }
}

/**
 * Creates or changes an app in the app center. An OpenID Connect app gets
 * its client id when it is created; a confidential client also gets a
 * secret, returned once in the result and kept only as a digest (also when
 * an existing public client becomes confidential). Audited with the settings
 * before and after.
 */
export class SaveApp {
  async handle(
    input: AppInput,
    mode: SaveAppMode,
    actor: AuditActor,
    createdBy: number | null = null
  ): Promise<Result<SavedApp, SaveAppError>> {
    let storedIcon: string | null = null
    if (input.icon) {
      const stored = await storeAppIcon(input.icon.sourcePath)
      if (!stored.ok) {
        return fail('invalid', { errors: [{ field: 'icon', code: stored.error }] })
      }
      storedIcon = stored.value
    }
    let replacedIcon: string | null = null
    try {
      const result = await db.transaction(async (trx) => {
        const existing =
          mode.mode === 'update'
            ? await CampusApp.query({ client: trx })
                .where('public_id', mode.publicId.toUpperCase())
                .forUpdate()
                .first()
            : null
        if (mode.mode === 'update' && !existing) return fail('not_found' as const)

        const { columns, errors } = await checkInput(input, existing, trx)
        if (errors.length > 0) return fail('invalid' as const, { errors })

        const audienceOf = async (id: number | null) => {
          if (id === null) return null
          const audience = await Audience.query({ client: trx }).where('id', id).first()
          return audience?.publicId ?? null
        }
        const app = existing ?? new CampusApp()
        app.useTransaction(trx)
        const before = existing
          ? appSnapshot(existing, await audienceOf(existing.audienceId))
          : null
        const wasConfidential = existing?.isOidcClient === true && !existing.publicClient

        app.merge(columns)
        if (input.icon !== undefined) {
          replacedIcon = existing?.iconPath ?? null
          app.iconPath = storedIcon
        }
        let secret: string | null = null
        if (app.kind === 'oidc') {
          app.oidcClientId ??= newClientId()
          if (app.publicClient) {
            app.clientSecretHash = null
            app.clientSecretRotatedAt = null
          } else if (!wasConfidential || !app.clientSecretHash) {
            secret = newClientSecret()
            app.clientSecretHash = clientSecretDigest(secret)
            app.clientSecretRotatedAt = DateTime.utc()
          }
        }
        if (!existing) app.createdBy = createdBy
        await app.save()

        const after = appSnapshot(app, await audienceOf(app.audienceId))
        const changed = before ? changedSettings(before, after) : Object.keys(after)
        if (!before || changed.length > 0 || secret) {
          await recordAudit(
            actor,
            {
              action: before ? 'apps.updated' : 'apps.created',
              subjectType: 'app',
              subjectId: app.publicId,
              before: before ?? undefined,
              after,
              meta: secret ? { newCredentials: true } : undefined,
            },
            trx
          )
        }
        return ok({ app, created: !existing, secret, changed })
      })
      if (!result.ok) {
        await removeAppIcon(storedIcon)
        return result
      }
      if (input.icon !== undefined && replacedIcon && replacedIcon !== storedIcon) {
        await removeAppIcon(replacedIcon)
      }
      return result
    } catch (error) {
      await removeAppIcon(storedIcon)
      throw error
    }
  }
}
