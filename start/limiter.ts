/*
 * Named rate limits for routes. Counters live in the database (config/limiter.ts).
 */
import limiter from '@adonisjs/limiter/services/main'
import quadConfig from '#config/quad'

export const throttle = {
  /** Sign-in and setup forms: per client address. */
  login: limiter.define('login', (ctx) =>
    limiter
      .allowRequests(quadConfig.loginRateLimitPerMinute)
      .every('1 minute')
      .usingKey(`ip_${ctx.request.ip()}`)
  ),
}
