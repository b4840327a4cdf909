import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

/**
 * The wallets' jobs and schedules (listed in jobs_catalog.ts). Handlers
 * import their work lazily: this file is loaded before the application boots.
 */

/** A subsidy or voucher batch issued from the console; safe to run again after a crash. */
export const issueWalletBatchJob = defineJob<{ batch: string }>(
  'ledger.issue_wallet_batch',
  async ({ batch }, { logger }) => {
    const { runWalletBatch } = await import('#ledger/actions/wallet_batches')
    const summary = await runWalletBatch(batch)
    logger.info({ batch, ...summary }, 'wallet batch issued')
  },
  { maxAttempts: 3, backoff: { baseMs: 30_000, maxMs: 10 * 60_000 } }
)

/** Takes expired subsidy and voucher money (and used-up vouchers' change) back to funding. */
export const sweepLotsJob = defineJob(
  'ledger.sweep_wallet_lots',
  async (_payload, { logger }) => {
    const { sweepExpiredLots } = await import('#ledger/actions/wallet_batches')
    const summary = await sweepExpiredLots()
    if (summary.lots > 0) logger.info(summary, 'wallet lots swept')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 30 * 60_000 } }
)

/** Every fifteen minutes: expired subsidy leaves the wallets at most fifteen minutes late. */
export const SWEEP_CRON = '*/15 * * * *'

defineSchedule('ledger.sweep_wallet_lots', SWEEP_CRON, sweepLotsJob, { timeZone: 'UTC' })
