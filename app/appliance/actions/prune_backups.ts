import { recordAudit, type AuditActor } from '#core/services/audit'
import { pruneBackups, type BackupFile, type RetentionPolicy } from '#appliance/services/backup'
import { currentSchool } from '#appliance/services/school_settings'

/**
 * Applies a retention policy to the backups folder (days counted in the
 * school's time zone) and records what was deleted.
 */
export class PruneBackups {
  async handle(
    policy: RetentionPolicy,
    actor: AuditActor
  ): Promise<{ keep: BackupFile[]; remove: BackupFile[] }> {
    const school = await currentSchool()
    const plan = pruneBackups(policy, school?.timeZone ?? 'UTC')
    if (plan.remove.length > 0)
      await recordAudit(actor, {
        action: 'appliance.backups_pruned',
        subjectType: 'backup',
        meta: {
          policy,
          removed: plan.remove.map((backup) => backup.name),
          kept: plan.keep.length,
        },
      })
    return plan
  }
}
