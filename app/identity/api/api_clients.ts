import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import { fail, ok, type Result } from '#core/services/result'
import ApiClient, { isApiScope, type ApiScope } from '#identity/api/api_client'

/**
 * The secret is 256 random bits, so a plain SHA-256 digest cannot be
 * reversed or guessed; a slow password hash would add nothing but cost CPU
 * on every API request (and make a cheap denial of service).
 */
function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

export interface IssuedClient {
  client: ApiClient
  /** `<clientId>.<secret>`, the only time the secret exists outside the caller. */
  token: string
  secret: string
}

export type CreateApiClientError = 'name_length' | 'scopes_invalid'

/** Parses "people:read,people:write" (commas or spaces) into known scopes, or null. */
export function parseScopes(text: string): ApiScope[] | null {
  const parts = text
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter(Boolean)
  if (parts.length === 0 || !parts.every(isApiScope)) return null
  return [...new Set(parts)] as ApiScope[]
}

/**
 * Registers an API client and returns its secret once. Audited; the audit
 * entry holds the client id and scopes, never the secret.
 */
export async function createApiClient(
  input: { name: string; scopes: ApiScope[]; createdBy?: number | null },
  actor: AuditActor
): Promise<Result<IssuedClient, CreateApiClientError>> {
  const name = input.name.trim()
  if (name.length === 0 || name.length > 120) return fail('name_length')
  if (input.scopes.length === 0 || !input.scopes.every(isApiScope)) return fail('scopes_invalid')
  const clientId = `qc_${newPublicId().toLowerCase()}`
  const secret = randomBytes(32).toString('base64url')
  return db.transaction(async (trx) => {
    const client = await ApiClient.create(
      {
        clientId,
        name,
        secretHash: digest(secret),
        scopes: input.scopes,
        enabled: true,
        createdBy: input.createdBy ?? null,
      },
      { client: trx }
    )
    await recordAudit(
      actor,
      {
        action: 'api.client_created',
        subjectType: 'api_client',
        subjectId: clientId,
        after: { name, scopes: input.scopes },
      },
      trx
    )
    return ok({ client, secret, token: `${clientId}.${secret}` })
  })
}

/** Refuses the client's requests from now on. Audited. */
export async function disableApiClient(
  clientId: string,
  actor: AuditActor
): Promise<Result<ApiClient, 'not_found' | 'already_disabled'>> {
  return db.transaction(async (trx) => {
    const client = await ApiClient.query({ client: trx })
      .where('client_id', clientId)
      .forUpdate()
      .first()
    if (!client) return fail('not_found')
    if (!client.enabled) return fail('already_disabled')
    client.useTransaction(trx)
    client.enabled = false
    await client.save()
    await recordAudit(
      actor,
      {
        action: 'api.client_disabled',
        subjectType: 'api_client',
        subjectId: clientId,
        before: { enabled: true },
        after: { enabled: false },
      },
      trx
    )
    return ok(client)
  })
}

/** Every client, newest first. */
export function listApiClients(): Promise<ApiClient[]> {
  return ApiClient.query().orderBy('id', 'desc')
}

/**
 * The enabled client that `<clientId>.<secret>` belongs to, or null. The
 * digests are compared in constant time; an unknown id still costs a
 * digest, so timing does not tell which client ids exist.
 */
export async function authenticateApiClient(
  clientId: string,
  secret: string
): Promise<ApiClient | null> {
  const given = Buffer.from(digest(secret), 'hex')
  const client = /^qc_[0-9a-z]{26}$/.test(clientId)
    ? await ApiClient.findBy('client_id', clientId)
    : null
  const expected = Buffer.from(client?.secretHash ?? '0'.repeat(64), 'hex')
  const matches = expected.length === given.length && timingSafeEqual(expected, given)
  if (!client || !matches || !client.enabled) return null
  // One write a minute at most: the timestamp is for humans, not an access log.
  const now = DateTime.utc()
  if (!client.lastUsedAt || now.diff(client.lastUsedAt, 'seconds').seconds >= 60) {
    client.lastUsedAt = now
    await client.save()
  }
  return client
}
