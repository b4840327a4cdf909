/*
 * Named rate limits for routes. Counters live in the database (config/limiter.ts).
 */
import limiter from '@adonisjs/limiter/services/main'
import quadConfig from '#config/quad'
import env from '#start/env'

export const throttle = {
  /** Sign-in and setup forms: per client address. */
  login: limiter.define('login', (ctx) =>
    limiter
      .allowRequests(quadConfig.loginRateLimitPerMinute)
      .every('1 minute')
      .usingKey(`ip_${ctx.request.ip()}`)
  ),
  /** Integration API: per client, after authentication. */
  api: limiter.define('api', (ctx) =>
    limiter
      .allowRequests(env.get('QUAD_API_RATE_LIMIT', 600))
      .every('1 minute')
      .usingKey(`api_${ctx.apiClient?.clientId ?? ctx.request.ip()}`)
  ),
}
