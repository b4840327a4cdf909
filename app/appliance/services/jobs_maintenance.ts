import db from '@adonisjs/lucid/services/db'
import { pruneFinishedJobs } from '#appliance/services/jobs'
import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

/**
 * The appliance's own housekeeping: rows that have served their purpose are
 * deleted every hour so that tables stay small on a box that runs for years.
 */

/** Deletes expired sessions and rate-limit counters, and old finished jobs. */
export async function pruneExpiredRows(now = new Date()) {
  // The session store writes expires_at itself (a timestamp on PostgreSQL,
  // epoch milliseconds on SQLite); comparing with a Date binds the same way.
  const sessions = await db.from('sessions').where('expires_at', '<=', now).delete()
  const rateLimits = await db
    .from('rate_limits')
    .whereNotNull('expire')
    .where('expire', '<', now.getTime())
    .delete()
  const jobs = await pruneFinishedJobs(now)
  return { sessions: Number(sessions), rateLimits: Number(rateLimits), ...jobs }
}

export const pruneJob = defineJob(
  'appliance.prune',
  async (_payload, { logger }) => {
    logger.info(await pruneExpiredRows(), 'expired rows pruned')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 15 * 60_000 } }
)

defineSchedule('appliance.prune', '0 * * * *', pruneJob, { timeZone: 'UTC' })
