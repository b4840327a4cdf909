import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'
import { pruneCasTickets } from '#app_center/services/cas_tickets'

/**
 * CAS housekeeping, hourly: service tickets that single logout can no
 * longer need leave the cas_tickets table.
 */
export const pruneCasJob = defineJob(
  'app_center.prune_cas',
  async (_payload, { logger }) => {
    logger.info({ deleted: await pruneCasTickets() }, 'spent CAS tickets pruned')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 15 * 60_000 } }
)

defineSchedule('app_center.prune_cas', '35 * * * *', pruneCasJob, { timeZone: 'UTC' })
