import env from '#start/env'
import string from '@adonisjs/core/helpers/string'

/**
 * Quad's own settings. Everything here can be set from the environment; the
 * README's configuration table lists the variables.
 */
const quadConfig = {
  /** A console session ends after this long without a request. */
  idleTimeoutSeconds: string.seconds.parse(env.get('QUAD_IDLE_TIMEOUT', '30m')),

  /** Sign-in: failures before the account is locked, and for how long. */
  lockout: { maxFailures: 5, lockMinutes: 15 },

  /** Sign-in attempts per client address per minute. */
  loginRateLimitPerMinute: env.get('QUAD_LOGIN_RATE_LIMIT', 20),

  /** Bearer token that opens /metrics to hosts other than localhost. */
  metricsToken: env.get('QUAD_METRICS_TOKEN')?.release() ?? null,
}

export default quadConfig
