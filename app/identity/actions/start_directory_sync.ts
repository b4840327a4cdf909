import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { enqueue } from '#appliance/services/jobs'
import DirectorySource from '#identity/models/directory_source'
import DirectorySyncRun, {
  type RunMode,
  type RunTrigger,
} from '#identity/models/directory_sync_run'
import { directorySyncJob } from '#identity/services/directory_jobs'
import { STALE_RUN_MS } from '#identity/services/directory_sync'

export interface StartSync {
  sourcePublicId: string
  mode: RunMode
  trigger: RunTrigger
  /** The preview an apply confirms (console). */
  previewRunPublicId?: string
  /** The schedule slot this run is for. */
  scheduledFor?: DateTime
  /**
   * false: the caller runs it at once in its own process (the ace command)
   * instead of handing it to a worker.
   */
  enqueueJob?: boolean
}

export type StartSyncError = 'not_found' | 'source_disabled' | 'busy' | 'preview_not_applicable'

/**
 * Records a new run of a directory source and, unless the caller runs it
 * itself, queues the job that runs it, in one transaction. An apply needs
 * an enabled source and no other apply of the same source in progress; a
 * preview can run on a disabled source, to try the settings before
 * switching them on.
 */
export class StartDirectorySync {
  async handle(
    start: StartSync,
    actor: AuditActor
  ): Promise<Result<DirectorySyncRun, StartSyncError>> {
    const source = await DirectorySource.findBy('public_id', start.sourcePublicId.toUpperCase())
    if (!source) return fail('not_found')
    if (start.mode === 'apply' && !source.enabled) return fail('source_disabled')

    let previewRunId: number | null = null
    if (start.previewRunPublicId) {
      const preview = await DirectorySyncRun.findBy(
        'public_id',
        start.previewRunPublicId.toUpperCase()
      )
      if (!preview || preview.sourceId !== source.id) return fail('not_found')
      if (preview.mode !== 'preview' || preview.status !== 'succeeded')
        return fail('preview_not_applicable')
      previewRunId = preview.id
    }

    // A second click, or a schedule tick while an apply is still going.
    const alive = DateTime.now().minus({ milliseconds: STALE_RUN_MS })
    const active = await DirectorySyncRun.query()
      .where('source_id', source.id)
      .where('mode', start.mode)
      .whereIn('status', ['queued', 'running'])
    if (active.some((run) => run.updatedAt > alive)) return fail('busy')

    const run = await db.transaction(async (trx) => {
      const created = await DirectorySyncRun.create(
        {
          sourceId: source.id,
          mode: start.mode,
          trigger: start.trigger,
          status: 'queued',
          previewRunId,
          actor,
          // Lucid writes SQLite times as wall-clock text of the zone given; local is what it reads back.
          scheduledFor: start.scheduledFor?.toLocal() ?? null,
        },
        { client: trx }
      )
      if (start.enqueueJob !== false) {
        created.jobPublicId = await enqueue(directorySyncJob, { runId: created.publicId }, { trx })
        await created.save()
      }
      return created
    })
    return ok(run)
  }
}
