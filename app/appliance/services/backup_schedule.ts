import { SYSTEM_ACTOR } from '#core/services/audit'
import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'
import { DEFAULT_RETENTION, resolveSecret, scheduledSecretKind } from '#appliance/services/backup'

/**
 * Nightly backups run by the worker at 02:30 school time, followed by a
 * prune with the default retention. They are scheduled only when a secret
 * is configured (QUAD_BACKUP_PASSPHRASE_FILE or QUAD_BACKUP_KEY_FILE): the
 * secret is read from a file so that it never sits in the job table.
 */

export const BACKUP_CRON = '30 2 * * *'

export const nightlyBackupJob = defineJob(
  'appliance.backup',
  async (_payload, { logger }) => {
    const secret = resolveSecret({
      passphraseFile: process.env.QUAD_BACKUP_PASSPHRASE_FILE,
      keyFile: process.env.QUAD_BACKUP_PASSPHRASE_FILE
        ? undefined
        : process.env.QUAD_BACKUP_KEY_FILE,
    })
    if (!secret) {
      logger.warn(
        'scheduled backup skipped: no QUAD_BACKUP_PASSPHRASE_FILE or QUAD_BACKUP_KEY_FILE'
      )
      return
    }
    const { CreateBackup } = await import('#appliance/actions/create_backup')
    const created = await new CreateBackup().handle({ secret }, SYSTEM_ACTOR)
    // A refusal is retried like any failure: the job's attempts show it in the console.
    if (!created.ok) throw new Error(String(created.details?.message ?? created.error))
    logger.info({ file: created.value.file, size: created.value.size }, 'backup written')
    const { PruneBackups } = await import('#appliance/actions/prune_backups')
    const pruned = await new PruneBackups().handle(DEFAULT_RETENTION, SYSTEM_ACTOR)
    logger.info({ kept: pruned.keep.length, removed: pruned.remove.length }, 'backups pruned')
  },
  { maxAttempts: 3, backoff: { baseMs: 5 * 60_000, maxMs: 60 * 60_000 } }
)

if (scheduledSecretKind()) defineSchedule('appliance.backup', BACKUP_CRON, nightlyBackupJob)
