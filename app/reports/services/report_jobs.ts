import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

/**
 * The reports' jobs and schedules (listed in jobs_catalog.ts). The handler
 * imports its work lazily: this file is loaded before the application boots.
 */

/** Generates one day's settlement statements (the day before today when none is named). */
export const generateStatementsJob = defineJob<{ day?: string }>(
  'reports.generate_statements',
  async (payload, { logger }) => {
    const { reportZone, todayIn, dayBefore } = await import('#reports/services/periods')
    const { generateStatements } = await import('#reports/actions/settlement_statements')
    const day = payload?.day ?? dayBefore(todayIn(await reportZone()))
    const result = await generateStatements(day)
    if (!result.ok) throw new Error(`settlement statements for ${day}: ${result.error}`)
    logger.info(result.value, 'settlement statements generated')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 30 * 60_000 } }
)

/** Nightly at 00:30 school time, for the day that has just ended. */
export const STATEMENTS_CRON = '30 0 * * *'

defineSchedule('reports.generate_statements', STATEMENTS_CRON, generateStatementsJob)
