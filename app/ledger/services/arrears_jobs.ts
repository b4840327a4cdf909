import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'
import { validate as validCron } from 'node-cron'

/**
 * The ledger's arrears reminder (补缴提醒), listed in jobs_catalog.ts. The
 * handler imports its work lazily: this file is loaded before the
 * application boots.
 */
export const arrearsRemindersJob = defineJob(
  'ledger.arrears_reminders',
  async (_payload, { logger }) => {
    const { recordArrearsReminders } = await import('#ledger/services/arrears')
    const summary = await recordArrearsReminders()
    if (summary.reminded > 0) logger.info(summary, 'arrears reminders recorded')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 30 * 60_000 } }
)

/** Daily at 10:00 school time, unless QUAD_ARREARS_REMINDER_CRON says otherwise. */
export const DEFAULT_ARREARS_REMINDER_CRON = '0 10 * * *'

function reminderCron(): string {
  const configured = process.env.QUAD_ARREARS_REMINDER_CRON?.trim()
  return configured && validCron(configured) ? configured : DEFAULT_ARREARS_REMINDER_CRON
}

defineSchedule('ledger.arrears_reminders', reminderCron(), arrearsRemindersJob)
