import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Reads a whole backup the way a restore would, without changing anything:
 * decrypts it, checks every chunk, every checksum and the manifest, and
 * that this Quad can restore its schema.
 */
export default class BackupVerify extends BaseCommand {
  static commandName = 'backup:verify'
  static description =
    'Check that a backup decrypts, is complete and intact, and can be restored here'
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'The backup file (.qbk)' })
  declare file: string

  @flags.string({ description: 'File holding the passphrase (one line)' })
  declare passphraseFile?: string

  @flags.string({ description: 'File holding the 32-byte key' })
  declare keyFile?: string

  @flags.boolean({ description: 'Print the result as one JSON object on stdout' })
  declare json?: boolean

  async run() {
    const { readBackup, resolveSecret } = await import('#appliance/services/backup')
    const { BackupError } = await import('#appliance/services/backup_format')
    const { progressPrinter } = await import('#appliance/services/backup_progress')
    try {
      const secret = resolveSecret({ passphraseFile: this.passphraseFile, keyFile: this.keyFile })
      if (!secret)
        return this.fail(
          'secret_missing',
          'No passphrase or key: give --passphrase-file or --key-file, or set QUAD_BACKUP_PASSPHRASE'
        )
      const manifest = await readBackup(this.file, secret, {
        onProgress: progressPrinter((line) =>
          this.json ? process.stderr.write(`${line}\n`) : this.logger.info(line)
        ),
      })
      const rows = Object.values(manifest.tables).reduce((sum, count) => sum + count, 0)
      if (this.json) {
        this.logger.log(JSON.stringify({ ok: true, manifest }))
        return
      }
      this.logger.success(`OK: ${this.file}`)
      this.logger.log(`  made      ${manifest.createdAt} by Quad ${manifest.quadVersion}`)
      this.logger.log(
        `  school    ${manifest.school ? `${manifest.school.name} (${manifest.school.code})` : '-'}`
      )
      this.logger.log(
        `  database  ${manifest.database.dialect}, ${Object.keys(manifest.tables).length} tables, ${rows} rows`
      )
      this.logger.log(`  schema    ${manifest.schema.latest ?? '-'}`)
      this.logger.log(`  files     ${manifest.files.length}, every checksum matches`)
    } catch (error) {
      if (error instanceof BackupError) return this.fail(error.problem, error.message)
      return this.fail('unreadable', `Cannot read ${this.file}: ${(error as Error).message}`)
    }
  }

  private fail(problem: string, message: string) {
    if (this.json) this.logger.log(JSON.stringify({ ok: false, problem, message }))
    else this.logger.error(`REFUSED: ${message}`)
    this.exitCode = 1
  }
}
