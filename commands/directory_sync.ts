import { userInfo } from 'node:os'
import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** Rows of each category printed under the summary. */
const ROWS_PRINTED = 20

/**
 * Runs a directory source's sync in this process, printing its progress and
 * the diff. With --dry-run nothing is written. Exits 1 when the run failed
 * or a safety limit blocked it, so that scripts notice.
 */
export default class DirectorySyncCommand extends BaseCommand {
  static commandName = 'directory:sync'
  static description =
    'Sync people from a directory source (LDAP / Active Directory); --dry-run only shows the diff'
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'The directory source: its name or its ID' })
  declare source: string

  @flags.boolean({ description: 'Compute and print the diff without writing anything' })
  declare dryRun?: boolean

  async run() {
    const { default: DirectorySource } = await import('#identity/models/directory_source')
    const { StartDirectorySync } = await import('#identity/actions/start_directory_sync')
    const { executeDirectoryRun } = await import('#identity/services/directory_sync')
    const { default: i18nManager } = await import('@adonisjs/i18n/services/main')
    const { changeValue, fieldLabel, invalidRowMessages, problemMessage } =
      await import('#identity/services/directory_messages')
    const i18n = i18nManager.locale('en')

    const wanted = this.source.trim()
    const source =
      (await DirectorySource.findBy('public_id', wanted.toUpperCase())) ??
      (await DirectorySource.findBy('name', wanted))
    if (!source) {
      this.logger.error(`No directory source named or with ID "${wanted}"`)
      this.exitCode = 1
      return
    }
    const mode = this.dryRun ? 'preview' : 'apply'
    const actor = { type: 'system' as const, name: `ace:${userInfo().username}` }
    const started = await new StartDirectorySync().handle(
      { sourcePublicId: source.publicId, mode, trigger: 'command', enqueueJob: false },
      actor
    )
    if (!started.ok) {
      this.logger.error(i18n.t(`directory.start_errors.${started.error}`))
      this.exitCode = 1
      return
    }
    this.logger.info(
      `${mode === 'preview' ? 'Dry run' : 'Sync'} of "${source.name}" (${source.url}), run ${started.value.publicId}`
    )

    let lastPhase = ''
    let lastPrinted = 0
    const run = await executeDirectoryRun(started.value.publicId, {
      onProgress: ({ phase, done, total }) => {
        const now = Date.now()
        if (phase === lastPhase && now - lastPrinted < 1000) return
        lastPhase = phase
        lastPrinted = now
        const label = i18n.t(`directory.phases.${phase}`)
        if (total) this.logger.info(`${label}: ${done} / ${total}`)
        else this.logger.info(done ? `${label}: ${done}` : label)
      },
    })
    if (!run) {
      this.logger.error('The run disappeared before it started')
      this.exitCode = 1
      return
    }

    const counts = [
      `entries ${run.entriesCount}`,
      `new ${run.createdCount}`,
      `updated ${run.updatedCount}`,
      `unchanged ${run.unchangedCount}`,
      `vanished ${run.vanishedCount}`,
      `invalid ${run.invalidCount}`,
    ].join(', ')
    const diff = run.diff
    if (diff) {
      for (const row of diff.created.slice(0, ROWS_PRINTED))
        this.logger.log(`  + ${row.personNo} ${row.name}`)
      for (const row of diff.updated.slice(0, ROWS_PRINTED)) {
        const changes = (row.fields ?? [])
          .map(
            (field) =>
              `${fieldLabel(field.field, i18n)}: ${changeValue(field.field, field.before, i18n)} → ${changeValue(field.field, field.after, i18n)}`
          )
          .join('; ')
        this.logger.log(`  ~ ${row.personNo} ${row.name}${changes ? ` (${changes})` : ''}`)
      }
      for (const row of diff.vanished.slice(0, ROWS_PRINTED))
        this.logger.log(
          `  - ${row.personNo} ${row.name}: ${i18n.t(`directory.outcomes.${row.outcome}`)}`
        )
      for (const row of diff.invalid.slice(0, ROWS_PRINTED))
        this.logger.log(`  ! ${row.dn}: ${invalidRowMessages(row, i18n).join(' ')}`)
    }

    if (run.status === 'succeeded') {
      this.logger.success(
        `${mode === 'preview' ? 'Dry run complete, nothing written' : 'Sync complete'}: ${counts}`
      )
      return
    }
    const problem = run.problem ? problemMessage(run.problem, i18n) : null
    this.logger.error(
      `${run.status === 'blocked' ? 'BLOCKED' : 'FAILED'}: ${problem?.message ?? run.status} (${counts})`
    )
    if (problem?.detail) this.logger.error(problem.detail)
    this.exitCode = 1
  }
}
