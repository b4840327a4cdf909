import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Makes an encrypted backup of the database and the storage files a
 * restore needs, while Quad keeps running.
 */
export default class BackupCreate extends BaseCommand {
  static commandName = 'backup:create'
  static description =
    'Make an encrypted backup (database snapshot, keys, CA, uploads) while Quad runs'
  static help = [
    'The secret comes from --passphrase-file, --key-file, or the environment',
    '(QUAD_BACKUP_PASSPHRASE, QUAD_BACKUP_PASSPHRASE_FILE, QUAD_BACKUP_KEY_FILE).',
    'Without --output the backup goes to $QUAD_STORAGE/backups/quad-<school>-<UTC time>.qbk.',
    'Keep the passphrase or key file somewhere else than the backups: without it nothing can be restored.',
    '',
    '{{ binaryName }} backup:create --passphrase-file /etc/quad/backup.pass',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.string({ description: 'Where to write the backup (default: the backups folder)' })
  declare output?: string

  @flags.string({ description: 'File holding the passphrase (one line)' })
  declare passphraseFile?: string

  @flags.string({ description: 'File holding a 32-byte key (raw, hex or base64)' })
  declare keyFile?: string

  async run() {
    const { resolveSecret } = await import('#appliance/services/backup')
    const { BackupError } = await import('#appliance/services/backup_format')
    const { auditLogProblem, operatorActor } = await import('#appliance/services/operator_audit')
    const { megabytes, progressPrinter } = await import('#appliance/services/backup_progress')

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
    const problem = await auditLogProblem()
    if (problem) return this.fail(`Cannot record the backup in the audit log: ${problem}`)

    const { CreateBackup } = await import('#appliance/actions/create_backup')
    const result = await new CreateBackup().handle(
      {
        secret,
        output: this.output,
        onProgress: progressPrinter((line) => this.logger.info(line)),
      },
      operatorActor(BackupCreate.commandName)
    )
    if (!result.ok) return this.fail(String(result.details?.message ?? result.error))

    const { file, size, manifest, seconds } = result.value
    const rows = Object.values(manifest.tables).reduce((sum, count) => sum + count, 0)
    this.logger.success(`Backup written: ${file}`)
    this.logger.log(`  size      ${megabytes(size)} in ${seconds.toFixed(1)} s`)
    this.logger.log(
      `  database  ${manifest.database.dialect}, ${Object.keys(manifest.tables).length} tables, ${rows} rows`
    )
    this.logger.log(`  files     ${manifest.files.length} (database snapshot, keys, CA, uploads)`)
    this.logger.log(`  schema    ${manifest.schema.latest ?? '-'}`)
  }

  private fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
