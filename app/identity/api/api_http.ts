import type { HttpContext } from '@adonisjs/core/http'
import { sendApiError, type ApiErrorDetail } from '#core/http/api_errors'
import type { AuditActor } from '#core/services/audit'
import {
  completeIdempotencyKey,
  releaseIdempotencyKey,
  requestHash,
  reserveIdempotencyKey,
  type StoredResponse,
} from '#identity/api/idempotency'

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

/** The audit actor of an API request: the client, by its public id and name. */
export function apiActor(ctx: HttpContext): AuditActor {
  return {
    type: 'api',
    id: ctx.apiClient?.clientId ?? null,
    name: ctx.apiClient?.name ?? null,
    ip: ctx.request.ip(),
    userAgent: ctx.request.header('user-agent') ?? null,
  }
}

/** A 422 answer listing the refused fields. */
export function invalid(details: ApiErrorDetail[]): StoredResponse {
  return {
    status: 422,
    body: {
      error: { code: 'validation_failed', message: 'The request body is not valid.', details },
    },
  }
}

/** Any other error answer, in the shape a write stores and replays. */
export function refused(status: number, code: string, message: string): StoredResponse {
  return { status, body: { error: { code, message, details: [] } } }
}

/**
 * Runs a write at most once per `Idempotency-Key`: a retry with the same
 * key and body gets the stored answer (and `Idempotent-Replayed: true`)
 * without writing again; the same key with another body is a 409. A write
 * that throws frees its key so that the client may retry.
 */
export async function idempotentWrite(
  ctx: HttpContext,
  body: unknown,
  perform: () => Promise<StoredResponse>
) {
  const key = ctx.request.header('idempotency-key')
  if (!key) {
    return sendApiError(
      ctx,
      400,
      'idempotency_key_missing',
      'Writes need an Idempotency-Key header.'
    )
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    return sendApiError(
      ctx,
      400,
      'idempotency_key_invalid',
      'The Idempotency-Key must be 1 to 255 visible ASCII characters.'
    )
  }
  const hash = requestHash(ctx.request.method(), ctx.request.url(), body)
  const reservation = await reserveIdempotencyKey(ctx.apiClient!.id, key, hash)
  if (reservation.kind === 'conflict') {
    return sendApiError(
      ctx,
      409,
      'idempotency_key_reused',
      'This Idempotency-Key was used for a different request.'
    )
  }
  if (reservation.kind === 'in_progress') {
    return sendApiError(
      ctx,
      409,
      'idempotency_key_in_progress',
      'A request with this Idempotency-Key is still running; retry later.'
    )
  }
  if (reservation.kind === 'replay') {
    ctx.response.header('Idempotent-Replayed', 'true')
    return ctx.response.status(reservation.response.status).send(reservation.response.body)
  }
  let response: StoredResponse
  try {
    response = await perform()
  } catch (error) {
    await releaseIdempotencyKey(reservation.id)
    throw error
  }
  await completeIdempotencyKey(reservation.id, response)
  return ctx.response.status(response.status).send(response.body)
}
