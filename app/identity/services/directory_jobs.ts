import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

/**
 * The background side of directory sync. A run (preview or apply) is a
 * durable job: it survives a restart of the web process, and a worker that
 * dies mid-run leaves it to be retried, which is safe since writes are
 * upserts. The schedule looks every five minutes for sources whose hourly
 * or daily slot has come and starts an apply run for each.
 */

export const directorySyncJob = defineJob<{ runId: string }>(
  'identity.directory_sync',
  async ({ runId }, { logger }) => {
    const { executeDirectoryRun } = await import('#identity/services/directory_sync')
    const run = await executeDirectoryRun(runId)
    if (!run) logger.warn({ run: runId }, 'directory sync run not found')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 15 * 60_000 } }
)

export const DIRECTORY_SCHEDULE_CRON = '*/5 * * * *'

defineSchedule('identity.directory_sync_schedule', DIRECTORY_SCHEDULE_CRON, async (tick) => {
  const { startDueDirectorySyncs } = await import('#identity/services/directory_schedule')
  const started = await startDueDirectorySyncs(tick.tickAt)
  if (started.length) tick.logger.info({ runs: started }, 'scheduled directory syncs started')
})
