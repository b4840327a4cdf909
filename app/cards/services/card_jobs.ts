import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

/**
 * The cards module's jobs and schedules (listed in jobs_catalog.ts so that
 * every worker knows them). Handlers import their work lazily: this file
 * is loaded before the application boots.
 */

/** A bulk issuance queued from the console; safe to run again after a crash. */
export const issueCardsJob = defineJob<{ issuanceId: string }>(
  'cards.issue',
  async ({ issuanceId }, { attempt, maxAttempts, logger }) => {
    const { runIssuance } = await import('#cards/services/issuance_run')
    const summary = await runIssuance(issuanceId, { lastAttempt: attempt >= maxAttempts })
    logger.info({ issuance: issuanceId, ...summary }, 'card issuance finished')
  },
  { maxAttempts: 3, backoff: { baseMs: 30_000, maxMs: 10 * 60_000 } }
)

/**
 * Ends cards whose validity has passed (temporary and visitor cards on time),
 * and takes replaced phones off the blacklist once their credentials expired.
 */
export const expireCardsJob = defineJob(
  'cards.expire',
  async (_payload, { logger }) => {
    const { ExpireCards } = await import('#cards/actions/expire_cards')
    const { expired } = await new ExpireCards().handle()
    if (expired > 0) logger.info({ expired }, 'cards expired')
    const { retireSpentDeviceEntries } = await import('#cards/services/blacklist')
    const retired = await retireSpentDeviceEntries()
    if (retired > 0) logger.info({ retired }, 'replaced phones taken off the blacklist')
  },
  { maxAttempts: 3, backoff: { baseMs: 30_000, maxMs: 5 * 60_000 } }
)

/** Student cards become alumni cards after graduation (the upgrade rules). */
export const upgradeGraduatesJob = defineJob(
  'cards.upgrade_graduates',
  async (_payload, { logger }) => {
    const { UpgradeGraduates } = await import('#cards/actions/upgrade_graduates')
    const summary = await new UpgradeGraduates().handle()
    logger.info(summary, 'card upgrades applied')
  },
  { maxAttempts: 3, backoff: { baseMs: 5 * 60_000, maxMs: 60 * 60_000 } }
)

/** Every five minutes: a visitor card ends at most five minutes late. */
export const EXPIRE_CRON = '*/5 * * * *'

/** Nightly at 01:30 school time, before the 02:30 backup. */
export const UPGRADE_CRON = '30 1 * * *'

defineSchedule('cards.expire', EXPIRE_CRON, expireCardsJob, { timeZone: 'UTC' })
defineSchedule('cards.upgrade_graduates', UPGRADE_CRON, upgradeGraduatesJob)
