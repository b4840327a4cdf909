import { basename } from 'node:path'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { BackupError, type BackupSecret } from '#appliance/services/backup_format'
import { restoreBackup, type BackupProgress, type RestoredBackup } from '#appliance/services/backup'
import { fail, ok, type Result } from '#core/services/result'
import { forgetSchool } from '#appliance/services/school_settings'

/**
 * Restores a backup onto this install. The audit entry goes into the
 * restored database, after its row counts were compared with the manifest,
 * so the restored log says who restored what and from which backup.
 */
export class RestoreBackup {
  async handle(
    input: { file: string; secret: BackupSecret; onProgress?: (progress: BackupProgress) => void },
    actor: AuditActor
  ): Promise<Result<RestoredBackup, string>> {
    let restored: RestoredBackup
    try {
      restored = await restoreBackup(input)
    } catch (error) {
      if (!(error instanceof BackupError)) throw error
      return fail(error.problem, { message: error.message })
    }
    forgetSchool()
    await recordAudit(actor, {
      action: 'appliance.backup_restored',
      subjectType: 'backup',
      subjectId: basename(input.file).slice(0, 64),
      outcome: restored.mismatches.length === 0 ? 'success' : 'failure',
      after: {
        file: input.file,
        createdAt: restored.manifest.createdAt,
        quadVersion: restored.manifest.quadVersion,
        schema: restored.manifest.schema.latest,
        mismatches: restored.mismatches,
      },
    })
    return ok(restored)
  }
}
