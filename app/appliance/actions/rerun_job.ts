import db from '@adonisjs/lucid/services/db'
import { dbTime, findJob, RERUNNABLE_STATUSES, type JobRecord } from '#appliance/services/jobs'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'

export type RerunJobError = 'not_found' | 'not_rerunnable'

/**
 * Sends a failed or dead job back to the queue with a fresh set of attempts,
 * due now. Audited in the same transaction as the change.
 */
export class RerunJob {
  async handle(publicId: string, actor: AuditActor): Promise<Result<JobRecord, RerunJobError>> {
    const before = await findJob(publicId)
    if (!before) return fail('not_found')
    if (!RERUNNABLE_STATUSES.includes(before.status)) return fail('not_rerunnable')

    const changed = await db.transaction(async (trx) => {
      const now = dbTime(new Date(), trx)
      // Only if the job is still as it was read: a worker may have claimed a
      // failed job for its retry meanwhile. Writing first also takes SQLite's
      // write lock at the start of the transaction.
      const updated = await trx
        .from('jobs')
        .where('id', before.id)
        .where('status', before.status)
        .where('attempts', before.attempts)
        .update({
          status: 'pending',
          attempts: 0,
          run_at: now,
          locked_by: null,
          locked_until: null,
          finished_at: null,
          updated_at: now,
        })
      if (Number(updated) === 0) return false
      await recordAudit(
        actor,
        {
          action: 'jobs.rerun',
          subjectType: 'job',
          subjectId: before.publicId,
          before: { status: before.status, attempts: before.attempts },
          after: { status: 'pending', attempts: 0 },
          meta: { name: before.name },
        },
        trx
      )
      return true
    })
    if (!changed) return fail('not_rerunnable')
    return ok((await findJob(publicId))!)
  }
}
