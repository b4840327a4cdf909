import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'
import { pruneOidcPayloads } from '#app_center/services/oidc_adapter'

/**
 * OpenID Connect housekeeping, hourly: expired sessions, interactions,
 * codes and tokens leave the oidc_payloads table.
 */
export const pruneOidcJob = defineJob(
  'app_center.prune_oidc',
  async (_payload, { logger }) => {
    logger.info({ deleted: await pruneOidcPayloads() }, 'expired OpenID Connect rows pruned')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 15 * 60_000 } }
)

defineSchedule('app_center.prune_oidc', '25 * * * *', pruneOidcJob, { timeZone: 'UTC' })
