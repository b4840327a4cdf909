import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Deletes old backups from the backups folder by a retention policy. The
 * newest backup is always kept.
 */
export default class BackupPrune extends BaseCommand {
  static commandName = 'backup:prune'
  static description = 'Delete old backups by a retention policy (the newest is always kept)'
  static help = [
    'Keeps the newest backup of each of the last N days, weeks and months (school time zone).',
    '',
    '{{ binaryName }} backup:prune --keep-daily 7 --keep-weekly 4 --keep-monthly 6',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.number({ description: 'Days to keep one backup of', default: 7 })
  declare keepDaily: number

  @flags.number({ description: 'Weeks to keep one backup of', default: 4 })
  declare keepWeekly: number

  @flags.number({ description: 'Months to keep one backup of', default: 6 })
  declare keepMonthly: number

  @flags.boolean({ description: 'Show what would be deleted, delete nothing' })
  declare dryRun?: boolean

  async run() {
    const policy = { daily: this.keepDaily, weekly: this.keepWeekly, monthly: this.keepMonthly }
    for (const [name, value] of Object.entries(policy))
      if (!Number.isInteger(value) || value < 0 || value > 1000) {
        this.logger.error(`--keep-${name} must be a whole number from 0 to 1000`)
        this.exitCode = 1
        return
      }
    const { currentSchool } = await import('#appliance/services/school_settings')
    const { listBackups, planPrune } = await import('#appliance/services/backup')
    let plan
    if (this.dryRun) {
      const school = await currentSchool()
      plan = planPrune(listBackups(), policy, school?.timeZone ?? 'UTC')
    } else {
      const { auditLogProblem, operatorActor } = await import('#appliance/services/operator_audit')
      const problem = await auditLogProblem()
      if (problem) {
        this.logger.error(`Cannot record the deletion in the audit log: ${problem}`)
        this.exitCode = 1
        return
      }
      const { PruneBackups } = await import('#appliance/actions/prune_backups')
      plan = await new PruneBackups().handle(policy, operatorActor(BackupPrune.commandName))
    }
    const verb = this.dryRun ? 'would delete' : 'deleted'
    for (const backup of plan.remove) this.logger.log(`  ${verb.padEnd(12)} ${backup.name}`)
    for (const backup of plan.keep) this.logger.log(`  ${'kept'.padEnd(12)} ${backup.name}`)
    this.logger.success(`${plan.keep.length} kept, ${plan.remove.length} ${verb}`)
  }
}
