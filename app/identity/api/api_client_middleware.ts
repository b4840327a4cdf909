import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { sendApiError } from '#core/http/api_errors'
import type ApiClient from '#identity/api/api_client'
import type { ApiScope } from '#identity/api/api_client'
import { authenticateApiClient } from '#identity/api/api_clients'

declare module '@adonisjs/core/http' {
  interface HttpContext {
    /** The integration API client that signed this request. */
    apiClient?: ApiClient
  }
}

/**
 * The client credentials of a request: `Authorization: Bearer <id>.<secret>`
 * or HTTP Basic with the id as user name and the secret as password.
 * Session cookies are ignored on purpose: a browser signed in to the
 * console must not be able to drive the API.
 */
function credentials(header: string): { clientId: string; secret: string } | null {
  const [scheme, value] = header.trim().split(/\s+/, 2)
  if (!value) return null
  let pair: string
  let separator: string
  if (/^bearer$/i.test(scheme)) {
    pair = value
    separator = '.'
  } else if (/^basic$/i.test(scheme)) {
    pair = Buffer.from(value, 'base64').toString('utf8')
    separator = ':'
  } else return null
  const index = pair.indexOf(separator)
  if (index <= 0 || index === pair.length - 1) return null
  return { clientId: pair.slice(0, index), secret: pair.slice(index + 1) }
}

/** Authenticates the API client and checks that it holds the route's scope. */
export default class ApiClientMiddleware {
  async handle(ctx: HttpContext, next: NextFn, options: { scope: ApiScope }) {
    const given = credentials(ctx.request.header('authorization') ?? '')
    const client = given ? await authenticateApiClient(given.clientId, given.secret) : null
    if (!client) {
      ctx.response.header('WWW-Authenticate', 'Bearer realm="quad-api"')
      return sendApiError(ctx, 401, 'unauthorized', 'Missing, unknown or disabled API credentials.')
    }
    if (!client.allows(options.scope)) {
      return sendApiError(
        ctx,
        403,
        'insufficient_scope',
        `This client lacks the scope ${options.scope}.`
      )
    }
    ctx.apiClient = client
    return next()
  }
}
