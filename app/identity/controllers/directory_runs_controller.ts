import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import DirectorySyncRun, { RUN_PHASES } from '#identity/models/directory_sync_run'
import { StartDirectorySync } from '#identity/actions/start_directory_sync'
import { DIFF_CATEGORIES, DIFF_ROWS_KEPT, emptyDiff } from '#identity/services/directory_diff'
import {
  changeValue,
  fieldLabel,
  invalidRowMessages,
  problemMessage,
} from '#identity/services/directory_messages'
import { directoryParamsValidator } from '#identity/validators/directory'

async function runFromParams(params: Record<string, unknown>) {
  const [error, input] = await directoryParamsValidator.tryValidate(params)
  if (error) return null
  return DirectorySyncRun.query().where('public_id', input.publicId).preload('source').first()
}

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** Console pages of one sync run: progress, diff, and the button that applies a dry run. */
export default class DirectoryRunsController {
  async show(ctx: HttpContext) {
    const { i18n, view, bouncer } = ctx
    await bouncer.authorize('permit', 'directory_sync.manage')
    const run = await runFromParams(ctx.params)
    if (!run) return notFound(ctx)
    const diff = run.diff ?? emptyDiff()
    const counts: Record<string, number> = {
      created: run.createdCount,
      updated: run.updatedCount,
      unchanged: run.unchangedCount,
      vanished: run.vanishedCount,
      invalid: run.invalidCount,
    }
    return view.render('pages/identity/directory/run', {
      run,
      source: run.source,
      problem: run.problem ? problemMessage(run.problem, i18n) : null,
      phaseLabels: Object.fromEntries(
        RUN_PHASES.map((phase) => [phase, i18n.t(`directory.phases.${phase}`)])
      ),
      percent: run.totalCount ? Math.floor((run.doneCount / run.totalCount) * 100) : 0,
      applicable: run.mode === 'preview' && run.status === 'succeeded',
      categories: DIFF_CATEGORIES.map((key) => ({
        key,
        count: counts[key],
        shown: Math.min(counts[key], DIFF_ROWS_KEPT),
      })),
      created: diff.created,
      unchanged: diff.unchanged,
      updated: diff.updated.map((row) => ({
        ...row,
        changes: (row.fields ?? []).map((field) => ({
          label: fieldLabel(field.field, i18n),
          before: changeValue(field.field, field.before, i18n),
          after: changeValue(field.field, field.after, i18n),
        })),
      })),
      vanished: diff.vanished,
      invalid: diff.invalid.map((row) => ({ ...row, messages: invalidRowMessages(row, i18n) })),
    })
  }

  /** The progress the page's script polls. */
  async progress(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'directory_sync.manage')
    const run = await runFromParams(ctx.params)
    if (!run) return ctx.response.notFound({ error: 'not_found' })
    ctx.response.header('cache-control', 'no-store')
    return { status: run.status, phase: run.phase, done: run.doneCount, total: run.totalCount }
  }

  /** Applies what a dry run showed: a new run that reads the directory again and writes. */
  async apply(ctx: HttpContext) {
    const { response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'directory_sync.manage')
    const preview = await runFromParams(ctx.params)
    if (!preview) return notFound(ctx)
    const result = await new StartDirectorySync().handle(
      {
        sourcePublicId: preview.source.publicId,
        mode: 'apply',
        trigger: 'console',
        previewRunPublicId: preview.publicId,
      },
      actorFrom(ctx)
    )
    if (!result.ok) {
      session.flash('error', i18n.t(`directory.start_errors.${result.error}`))
      return response.redirect(`/console/directory/runs/${preview.publicId}`)
    }
    session.flash('notice', i18n.t('directory.apply_started'))
    return response.redirect(`/console/directory/runs/${result.value.publicId}`)
  }
}
