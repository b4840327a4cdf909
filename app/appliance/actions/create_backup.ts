import { basename } from 'node:path'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { BackupError, type BackupSecret } from '#appliance/services/backup_format'
import { createBackup, type BackupProgress, type CreatedBackup } from '#appliance/services/backup'
import { fail, ok, type Result } from '#core/services/result'

/**
 * Makes a backup and records it in the audit log (with its size and the
 * row counts, never the secret). A refusal (weak passphrase, missing
 * pg_dump, existing output) is a value carrying the reason.
 */
export class CreateBackup {
  async handle(
    input: {
      secret: BackupSecret
      output?: string
      onProgress?: (progress: BackupProgress) => void
    },
    actor: AuditActor
  ): Promise<Result<CreatedBackup, string>> {
    try {
      const created = await createBackup(input)
      await recordAudit(actor, {
        action: 'appliance.backup_created',
        subjectType: 'backup',
        subjectId: basename(created.file).slice(0, 64),
        after: {
          file: created.file,
          size: created.size,
          dialect: created.manifest.database.dialect,
          schema: created.manifest.schema.latest,
          rows: Object.values(created.manifest.tables).reduce((sum, count) => sum + count, 0),
          files: created.manifest.files.length,
          secret: input.secret.kind === 'passphrase' ? 'passphrase' : 'key file',
        },
      })
      return ok(created)
    } catch (error) {
      if (!(error instanceof BackupError)) throw error
      await recordAudit(actor, {
        action: 'appliance.backup_created',
        subjectType: 'backup',
        outcome: 'failure',
        meta: { reason: error.problem },
      })
      return fail(error.problem, { message: error.message })
    }
  }
}
