import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** Lists the backups in the backups folder, newest first, without needing the key. */
export default class BackupList extends BaseCommand {
  static commandName = 'backup:list'
  static description = 'List the backups in the backups folder (time, size, school, Quad version)'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Print the list as JSON' })
  declare json?: boolean

  async run() {
    const { backupsFolder, listBackups } = await import('#appliance/services/backup')
    const { megabytes } = await import('#appliance/services/backup_progress')
    const backups = listBackups()
    if (this.json) {
      this.logger.log(
        JSON.stringify(
          backups.map((backup) => ({ ...backup, createdAt: backup.createdAt.toISO() })),
          null,
          2
        )
      )
      return
    }
    if (backups.length === 0) {
      this.logger.info(`No backups in ${backupsFolder()}`)
      return
    }
    const table = this.ui.table()
    table.head(['created (UTC)', 'size', 'school', 'Quad', 'database', 'file'])
    for (const backup of backups)
      table.row([
        backup.createdAt.toFormat('yyyy-MM-dd HH:mm:ss'),
        megabytes(backup.size),
        backup.school ?? '-',
        backup.quadVersion ?? '-',
        backup.dialect ?? '-',
        backup.name,
      ])
    table.render()
  }
}
