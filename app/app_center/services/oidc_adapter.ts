import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { errors, Provider, type Adapter, type AdapterPayload } from 'oidc-provider'
import CampusApp from '#app_center/models/campus_app'
import { CLIENT_ID_PATTERN } from '#app_center/services/client_secrets'
import { isNativeApp } from '#app_center/services/app_rules'

/**
 * Where the OpenID Connect provider keeps its state: the `oidc_payloads`
 * table for everything it issues (sessions, interactions, grants, codes,
 * tokens), and the app center's `apps` table for its clients. Every web
 * process shares both, so a sign-in may start on one box and finish on
 * another.
 */

const TABLE = 'oidc_payloads'

/** Kinds whose rows belong to a grant and go when it is revoked. */
const GRANT_MEMBERS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
])

function client() {
  return db.connection()
}

/** A time as the database compares it in a WHERE clause. */
function sqlTime(time: DateTime): string {
  return time.toUTC().toFormat(client().dialect.dateTimeFormat)
}

/** Seconds since the epoch of a time column as either database returns it. */
function epochOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined
  if (value instanceof Date) return Math.floor(value.getTime() / 1000)
  const parsed = DateTime.fromSQL(String(value), { zone: 'utc' })
  const time = parsed.isValid ? parsed : DateTime.fromISO(String(value), { zone: 'utc' })
  return time.isValid ? Math.floor(time.toSeconds()) : undefined
}

function affected(result: unknown): number {
  return Number(Array.isArray(result) ? result[0] : result)
}

/** The payloads of one model (AccessToken, Session, …) in `oidc_payloads`. */
export class OidcPayloadAdapter implements Adapter {
  constructor(readonly kind: string) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const row = {
      kind: this.kind,
      id,
      payload: JSON.stringify(payload),
      grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
      account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
      expires_at:
        typeof expiresIn === 'number' ? sqlTime(DateTime.utc().plus({ seconds: expiresIn })) : null,
    }
    // The consumed mark survives a re-save: a code stays used.
    await client()
      .getWriteClient()
      .table(TABLE)
      .insert(row)
      .onConflict(['kind', 'id'])
      .merge(['payload', 'grant_id', 'uid', 'user_code', 'account_id', 'expires_at'])
  }

  private async findWhere(column: 'id' | 'uid' | 'user_code', value: string) {
    if (typeof value !== 'string' || value.length === 0 || value.length > 255) return undefined
    const row = await client()
      .from(TABLE)
      .where('kind', this.kind)
      .where(column, value)
      .where((live) => {
        live.whereNull('expires_at').orWhere('expires_at', '>', sqlTime(DateTime.utc()))
      })
      .select('payload', 'consumed_at')
      .first()
    if (!row) return undefined
    const payload = JSON.parse(row.payload) as AdapterPayload
    const consumed = epochOf(row.consumed_at)
    return consumed === undefined ? payload : { ...payload, consumed }
  }

  find(id: string) {
    return this.findWhere('id', id)
  }

  findByUid(uid: string) {
    return this.findWhere('uid', uid)
  }

  findByUserCode(userCode: string) {
    return this.findWhere('user_code', userCode)
  }

  /**
   * Marks a code or token used. The update only succeeds on a row not yet
   * used, so two requests racing with one authorization code cannot both
   * win: the loser gets invalid_grant and the grant's tokens are revoked, as
   * for any replayed code.
   */
  async consume(id: string): Promise<void> {
    const changed = await client()
      .from(TABLE)
      .where('kind', this.kind)
      .where('id', id)
      .whereNull('consumed_at')
      .update({ consumed_at: sqlTime(DateTime.utc()) })
    if (affected(changed) > 0) return
    const row = await client().from(TABLE).where('kind', this.kind).where('id', id).first()
    if (row?.grant_id) await revokeGrantMembers(row.grant_id)
    if (this.kind === 'PushedAuthorizationRequest') {
      throw new errors.InvalidRequestUri('request_uri was already used')
    }
    throw new errors.InvalidGrant('grant already used')
  }

  async destroy(id: string): Promise<void> {
    await client().from(TABLE).where('kind', this.kind).where('id', id).delete()
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await client().from(TABLE).where('kind', this.kind).where('grant_id', grantId).delete()
  }
}

/** Deletes every code and token of a grant. */
async function revokeGrantMembers(grantId: string) {
  await client()
    .from(TABLE)
    .whereIn('kind', [...GRANT_MEMBERS])
    .where('grant_id', grantId)
    .delete()
}

/**
 * Routes where the provider must still find a disabled app: there the
 * person's sign-in is refused with access_denied, sent back to the app's
 * registered redirect URI (or to the waiting device). Everywhere else a
 * disabled app is unknown, so it cannot redeem codes, refresh, introspect
 * or use tokens.
 */
const ROUTES_SEEING_DISABLED_APPS = new Set([
  'authorization',
  'resume',
  'code_verification',
  'device_resume',
])

/** The provider's client metadata of an OpenID Connect app. */
export function clientMetadata(app: CampusApp) {
  const native = isNativeApp(app.redirectUris)
  return {
    client_id: app.oidcClientId,
    ...(app.publicClient ? {} : { client_secret: app.clientSecretHash }),
    client_name: app.nameZh,
    application_type: native ? 'native' : 'web',
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    grant_types: app.grantTypes,
    response_types: app.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: app.publicClient ? 'none' : app.tokenEndpointAuthMethod,
    scope: app.allowedScopes.join(' '),
    id_token_signed_response_alg: app.idTokenAlg,
    quad_app: app.publicId,
    quad_enabled: app.enabled,
    quad_first_party: app.firstParty,
  }
}

/** The provider's clients, read from the app center on every lookup. */
export class AppClientAdapter implements Adapter {
  async find(id: string) {
    if (typeof id !== 'string' || !CLIENT_ID_PATTERN.test(id)) return undefined
    const app = await CampusApp.query().where('oidc_client_id', id).where('kind', 'oidc').first()
    if (!app) return undefined
    if (!app.enabled && !ROUTES_SEEING_DISABLED_APPS.has(Provider.ctx?.oidc?.route)) {
      return undefined
    }
    return clientMetadata(app)
  }

  async upsert() {
    throw new Error('clients are managed in the app center')
  }

  async findByUid() {
    return undefined
  }

  async findByUserCode() {
    return undefined
  }

  async consume() {}

  async destroy() {}

  async revokeByGrantId() {}
}

/** The adapter factory the provider is configured with. */
export function oidcAdapter(model: string): Adapter {
  return model === 'Client' ? new AppClientAdapter() : new OidcPayloadAdapter(model)
}

/** Deletes the rows whose time is up. Returns how many went. */
export async function pruneOidcPayloads(now = DateTime.utc()): Promise<number> {
  const deleted = await client()
    .from(TABLE)
    .whereNotNull('expires_at')
    .where('expires_at', '<=', sqlTime(now))
    .delete()
  return affected(deleted)
}
