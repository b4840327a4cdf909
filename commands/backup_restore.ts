import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Restores a backup onto this install (also a fresh one on another
 * machine): the database and the keys, CA and uploads. Stop Quad's web,
 * worker and gateway processes first; the command refuses while it can see
 * them using the database.
 */
export default class BackupRestore extends BaseCommand {
  static commandName = 'backup:restore'
  static description =
    'Restore a backup onto this install (replaces the database, keys, CA and uploads)'
  static help = [
    'Everything in the backup is checked before anything is replaced.',
    'Stop Quad first (systemctl stop quad). Needs --force: the current data is replaced.',
    '',
    '{{ binaryName }} backup:restore /var/lib/quad/backups/quad-SCMU-20261128T023000Z.qbk --force --passphrase-file /etc/quad/backup.pass',
  ]
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'The backup file (.qbk)' })
  declare file: string

  @flags.boolean({ description: 'Replace the current database and storage files' })
  declare force?: boolean

  @flags.string({ description: 'File holding the passphrase (one line)' })
  declare passphraseFile?: string

  @flags.string({ description: 'File holding the 32-byte key' })
  declare keyFile?: string

  async run() {
    const { resolveSecret } = await import('#appliance/services/backup')
    const { BackupError } = await import('#appliance/services/backup_format')
    const { megabytes, progressPrinter } = await import('#appliance/services/backup_progress')
    const { operatorActor } = await import('#appliance/services/operator_audit')
    if (!this.force)
      return this.fail(
        "A restore replaces this install's database, keys, CA and uploads: add --force to go ahead."
      )
    let secret
    try {
      secret = resolveSecret({ passphraseFile: this.passphraseFile, keyFile: this.keyFile })
    } catch (error) {
      if (error instanceof BackupError) return this.fail(error.message)
      return this.fail(`Cannot read the secret: ${(error as Error).message}`)
    }
    if (!secret)
      return this.fail(
        'No passphrase or key: give --passphrase-file or --key-file, or set QUAD_BACKUP_PASSPHRASE'
      )

    const { RestoreBackup } = await import('#appliance/actions/restore_backup')
    const result = await new RestoreBackup().handle(
      {
        file: this.file,
        secret,
        onProgress: progressPrinter((line) => this.logger.info(line)),
      },
      operatorActor(BackupRestore.commandName)
    )
    if (!result.ok) return this.fail(`REFUSED: ${String(result.details?.message ?? result.error)}`)

    const { manifest, mismatches, pendingMigrations, seconds } = result.value
    if (mismatches.length > 0) {
      for (const mismatch of mismatches)
        this.logger.error(
          `${mismatch.table}: ${mismatch.found} rows, the backup has ${mismatch.expected}`
        )
      return this.fail("The restored database does not match the backup's row counts.")
    }
    const rows = Object.values(manifest.tables).reduce((sum, count) => sum + count, 0)
    this.logger.success(
      `Restored the backup of ${manifest.createdAt} (Quad ${manifest.quadVersion}) in ${seconds.toFixed(1)} s`
    )
    this.logger.log(
      `  database  ${Object.keys(manifest.tables).length} tables, ${rows} rows: every count matches`
    )
    this.logger.log(`  files     ${manifest.files.length - 1} storage files (keys, CA, uploads)`)
    const size = manifest.files.reduce((sum, file) => sum + file.size, 0)
    this.logger.log(`  restored  ${megabytes(size)}`)
    if (pendingMigrations > 0)
      this.logger.warning(
        `The backup's schema is older than this Quad: run node ace migration:run --force (${pendingMigrations} pending).`
      )
    this.logger.log('Check it with node ace audit:verify, then start Quad.')
  }

  private fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
