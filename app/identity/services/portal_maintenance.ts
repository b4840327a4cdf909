import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'
import { sqlTime } from '#identity/services/portal_sessions'

/**
 * Portal housekeeping, hourly: expired QR challenges and reset links go, the
 * bodies of mail that can no longer help are blanked, and ended or expired
 * sessions are kept for 30 days (the audit log keeps the sign-ins for good).
 */
export async function prunePortalRows(now = DateTime.utc()) {
  const client = db.connection()
  const hourAgo = sqlTime(now.minus({ hours: 1 }), client)
  const monthAgo = sqlTime(now.minus({ days: 30 }), client)
  const challenges = await client
    .from('portal_qr_challenges')
    .where('expires_at', '<', hourAgo)
    .delete()
  const resets = await client
    .from('portal_password_resets')
    .where('expires_at', '<', sqlTime(now.minus({ days: 1 }), client))
    .delete()
  const sessions = await client
    .from('portal_sessions')
    .where((query) => query.where('expires_at', '<', monthAgo).orWhere('ended_at', '<', monthAgo))
    .delete()
  const mailDiscarded = await client
    .from('mail_outbox')
    .where('status', 'pending')
    .where('discard_after', '<', sqlTime(now, client))
    .update({ status: 'discarded', body_ciphertext: null })
  const mailDeleted = await client.from('mail_outbox').where('created_at', '<', monthAgo).delete()
  return {
    challenges: Number(challenges),
    resets: Number(resets),
    sessions: Number(sessions),
    mailDiscarded: Number(mailDiscarded),
    mailDeleted: Number(mailDeleted),
  }
}

export const prunePortalJob = defineJob(
  'portal.prune',
  async (_payload, { logger }) => {
    logger.info(await prunePortalRows(), 'portal rows pruned')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 15 * 60_000 } }
)

defineSchedule('portal.prune', '20 * * * *', prunePortalJob, { timeZone: 'UTC' })
