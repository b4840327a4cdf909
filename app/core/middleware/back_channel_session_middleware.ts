import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/**
 * Endpoints that servers and devices call without a browser: ticket
 * validation, token exchange, keys and discovery, the REST API. They never
 * use the session, yet the CSRF guard gives every request without a session
 * cookie a fresh session holding its secret, and that session would be
 * written to the database on every call.
 */
const BACK_CHANNEL = [
  /^\/cas\/(?:validate|serviceValidate|proxyValidate|p3\/serviceValidate|p3\/proxyValidate|proxy|samlValidate)(?:[?/]|$)/,
  /^\/oidc\/(?:token|jwks|me|device\/auth|\.well-known\/)(?:[?/]|$)/,
  /^\/api\//,
]

export function isBackChannel(url: string): boolean {
  return BACK_CHANNEL.some((pattern) => pattern.test(url))
}

/**
 * Forgets the session a back-channel request was given, so that nothing is
 * stored for it. A request that came with a session cookie keeps its session
 * as it is.
 */
export default class BackChannelSessionMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const response = await next()
    if (ctx.session?.fresh && isBackChannel(ctx.request.url())) ctx.session.clear()
    return response
  }
}
