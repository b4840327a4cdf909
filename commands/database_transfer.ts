import { spawn } from 'node:child_process'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

const MESSAGES: Record<string, string> = {
  same_connection: 'Quad already uses this database: --to must name the other one.',
  source_pending_migrations:
    'The current database has pending migrations: run node ace migration:run --force first.',
  target_unreachable:
    'The target database cannot be reached (for PostgreSQL: PG_HOST, PG_PORT, PG_USER, PG_PASSWORD, PG_DATABASE; create the database first).',
  target_migration_failed: 'Migrating the target database failed.',
  target_schema_differs: 'The target database has another schema than the current one.',
  target_not_empty:
    'The target database already holds data: nothing was copied. Add --force to replace it.',
  count_mismatch: 'Row counts differ after the copy.',
}

/**
 * Moves the school from SQLite to PostgreSQL (or back). Stop Quad's web,
 * worker and gateway processes first; afterwards point DB_CONNECTION at the
 * target and start Quad again.
 */
export default class DatabaseTransfer extends BaseCommand {
  static commandName = 'database:transfer'
  static description =
    'Copy every table from the current database to PostgreSQL (--to pg) or SQLite (--to sqlite)'
  static help = [
    'The target is the other connection of this Quad: PG_HOST, PG_PORT, PG_USER, PG_PASSWORD and',
    'PG_DATABASE for PostgreSQL (the database must exist), SQLITE_FILE for SQLite.',
    'Stop Quad first. The target is migrated, filled in one transaction, its row counts and its',
    'audit chain are checked. Then set DB_CONNECTION to the target and start Quad.',
    '',
    'DB_CONNECTION=sqlite PG_DATABASE=quad {{ binaryName }} database:transfer --to pg',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.string({ description: 'Target database: pg or sqlite' })
  declare to?: string

  @flags.boolean({ description: 'Replace the data a non-empty target holds' })
  declare force?: boolean

  @flags.number({ description: 'Rows per batch', default: 1000 })
  declare batchSize: number

  async run() {
    if (this.to !== 'pg' && this.to !== 'sqlite') return this.fail('--to must be pg or sqlite')
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000)
      return this.fail('--batch-size must be a whole number from 1 to 10000')
    const { operatorActor } = await import('#appliance/services/operator_audit')
    const { transferDatabase } = await import('#appliance/services/transfer')
    let lastLine = 0
    const result = await transferDatabase({
      to: this.to,
      force: Boolean(this.force),
      batchSize: this.batchSize,
      actor: operatorActor(DatabaseTransfer.commandName),
      onProgress: (progress) => {
        if (progress.stage === 'migrate') this.logger.info('migrating the target database')
        else if (progress.stage === 'verify') this.logger.info('comparing row counts')
        else {
          const now = Date.now()
          if (progress.copied < progress.total && now - lastLine < 2000) return
          lastLine = now
          this.logger.info(`${progress.table}: ${progress.copied} / ${progress.total} rows`)
        }
      },
    })
    if (!result.ok) {
      this.logger.error(MESSAGES[result.error] ?? result.error)
      if (result.details) this.logger.log(`  ${JSON.stringify(result.details)}`)
      this.exitCode = 1
      return
    }
    const summary = result.value
    const table = this.ui.table()
    table.head(['table', summary.from, summary.to])
    for (const entry of summary.tables)
      table.row([entry.table, String(entry.source), String(entry.target)])
    table.render()
    this.logger.success(
      `Copied ${summary.rows} rows in ${summary.tables.length} tables from ${summary.from} to ${summary.to} in ${summary.seconds.toFixed(1)} s; every count matches.`
    )

    this.logger.info('verifying the audit chain on the target (audit:verify)')
    const verified = await this.auditVerify(this.to)
    if (!verified.ok) {
      this.logger.error(`audit:verify fails on the target: ${verified.output.trim()}`)
      this.exitCode = 1
      return
    }
    this.logger.success(`audit:verify passes on the target: ${verified.output.trim()}`)
    this.logger.log(
      `Now set DB_CONNECTION=${this.to} in Quad's configuration and start Quad. The ${summary.from} database was left as it was.`
    )
  }

  /** Runs audit:verify in a process of its own whose main database is the target. */
  private auditVerify(connection: string): Promise<{ ok: boolean; output: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [this.app.makePath('ace.js'), 'audit:verify', '--json', '--no-ansi'],
        {
          cwd: this.app.makePath(),
          env: { ...process.env, DB_CONNECTION: connection },
          stdio: ['ignore', 'pipe', 'pipe'],
        }
      )
      let output = ''
      child.stdout.on('data', (chunk) => (output += chunk))
      child.stderr.on('data', (chunk) => (output += chunk))
      child.on('error', reject)
      child.on('close', (code) => resolve({ ok: code === 0, output }))
    })
  }

  private fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
