import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

/**
 * The campus code's one-time use store keeps each code id only while the
 * code could still verify; this job forgets the rest. Listed in
 * jobs_catalog.ts; the handler imports its work lazily because this file
 * is loaded before the application boots.
 */
export const pruneSeenCodesJob = defineJob(
  'cards.prune_seen_codes',
  async (_payload, { logger }) => {
    const { pruneSeenCodes } = await import('#cards/services/replay_store')
    const removed = await pruneSeenCodes()
    if (removed > 0) logger.info({ removed }, 'expired campus code ids forgotten')
  },
  { maxAttempts: 3, backoff: { baseMs: 30_000, maxMs: 5 * 60_000 } }
)

/** Every ten minutes: a code id outlives its code by ten minutes at most. */
export const PRUNE_SEEN_CODES_CRON = '*/10 * * * *'

defineSchedule('cards.prune_seen_codes', PRUNE_SEEN_CODES_CRON, pruneSeenCodesJob, {
  timeZone: 'UTC',
})
