import type { HttpContext } from '@adonisjs/core/http'
import { errors as limiterErrors } from '@adonisjs/limiter'
import { errors as vineErrors } from '@vinejs/vine'

/** One refused field of a JSON API request. */
export interface ApiErrorDetail {
  field: string
  code: string
  message?: string
}

/** The body every JSON API error has: `{ "error": { code, message, details } }`. */
export function apiErrorBody(code: string, message: string, details: ApiErrorDetail[] = []) {
  return { error: { code, message, details } }
}

/** Answers with a JSON API error. */
export function sendApiError(
  ctx: HttpContext,
  status: number,
  code: string,
  message: string,
  details: ApiErrorDetail[] = []
) {
  return ctx.response.status(status).send(apiErrorBody(code, message, details))
}

/**
 * Maps whatever a JSON API request threw (malformed JSON, Vine validation,
 * rate limit, unknown route, unexpected failure) to the API's error shape.
 * Pages keep their HTML errors; API clients never get a page.
 */
export function renderApiError(error: unknown, ctx: HttpContext) {
  if (error instanceof limiterErrors.E_TOO_MANY_REQUESTS) {
    const headers = error.getDefaultHeaders()
    for (const [name, value] of Object.entries(headers)) ctx.response.header(name, value)
    return sendApiError(
      ctx,
      429,
      'rate_limited',
      'Too many requests; retry after the delay in Retry-After.'
    )
  }
  if (error instanceof vineErrors.E_VALIDATION_ERROR) {
    const details = (error.messages as { field: string; rule: string; message: string }[]).map(
      (message) => ({ field: message.field, code: message.rule, message: message.message })
    )
    return sendApiError(ctx, 422, 'validation_failed', 'The request body is not valid.', details)
  }
  const failure = error as { status?: unknown; code?: unknown; message?: unknown }
  const message = typeof failure.message === 'string' ? failure.message : ''
  if (error instanceof SyntaxError || message.startsWith('Invalid JSON')) {
    return sendApiError(ctx, 400, 'malformed_json', 'The request body is not a JSON object.')
  }
  const status = typeof failure.status === 'number' ? failure.status : 500
  if (status === 404) return sendApiError(ctx, 404, 'not_found', 'No such resource.')
  if (status === 413)
    return sendApiError(ctx, 413, 'payload_too_large', 'The request body is too large.')
  if (status >= 400 && status < 500) {
    return sendApiError(ctx, status, 'bad_request', 'The request was refused.')
  }
  return sendApiError(ctx, 500, 'internal_error', 'Unexpected failure; it has been logged.')
}
