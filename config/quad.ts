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

  /** The portal: how long a person's single sign-on session lasts (docs/portal.md). */
  portal: {
    /** Ends a session after this long without a request. */
    idleTimeoutSeconds: string.seconds.parse(env.get('QUAD_PORTAL_IDLE_TIMEOUT', '30m')),
    /** Ends a session this long after sign-in, whatever the activity. */
    lifetimeSeconds: string.seconds.parse(env.get('QUAD_PORTAL_SESSION_LIFETIME', '12h')),
    /** "Remember this device": the lifetime, and the idle timeout that goes with it. */
    rememberedLifetimeSeconds: string.seconds.parse(env.get('QUAD_PORTAL_REMEMBER', '30d')),
    rememberedIdleTimeoutSeconds: string.seconds.parse(
      env.get('QUAD_PORTAL_REMEMBER_IDLE_TIMEOUT', '7d')
    ),
    /** Sign-in attempts per client address per minute (a campus NAT hides many phones). */
    loginRateLimitPerMinute: Number(env.get('QUAD_PORTAL_LOGIN_RATE_LIMIT', '60')),
  },

  /**
   * Outgoing e-mail. With an SMTP URL (smtp://user:pass@host:587) and APP_URL
   * set, people can reset a forgotten portal password by e-mail.
   */
  mail: {
    smtpUrl: env.get('QUAD_SMTP_URL') || null,
    from: env.get('QUAD_MAIL_FROM') || null,
  },

  /**
   * The CAS server (docs/integrating-apps.md#cas): how long a service ticket
   * may wait for its validation, held between 10 and 60 seconds.
   */
  cas: {
    ticketLifetimeSeconds: Math.min(
      60,
      Math.max(10, string.seconds.parse(env.get('QUAD_CAS_TICKET_LIFETIME', '30s')))
    ),
    /** How long single logout waits for each app's answer. */
    logoutTimeoutMs: 2000,
  },

  /**
   * Campus-code replays (docs/campus-code.md §9): a card whose codes are
   * presented again this many times within this window is frozen.
   */
  replayFreeze: {
    maxReplays: Math.max(1, Math.floor(Number(env.get('QUAD_REPLAY_FREEZE_COUNT', '3'))) || 3),
    windowSeconds: string.seconds.parse(env.get('QUAD_REPLAY_FREEZE_WINDOW', '10m')),
  },

  /**
   * Bulk actions on the cards list (docs/cards.md): the most cards one
   * request changes; a larger selection is refused and must be narrowed.
   */
  cardsBulk: {
    inlineLimit: Math.max(1, Math.floor(Number(env.get('QUAD_CARDS_BULK_LIMIT', '500'))) || 500),
  },

  /** The address people reach the appliance at, for links in e-mails. */
  appUrl: env.get('APP_URL') || null,
}

export default quadConfig
