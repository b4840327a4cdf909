import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { IDENTITY_TYPES } from '#identity/models/person'
import DirectorySource, {
  DIRECTORY_SCHEDULES,
  DIRECTORY_SCOPES,
  VANISHED_ACTIONS,
} from '#identity/models/directory_source'
import DirectorySyncRun from '#identity/models/directory_sync_run'
import { SaveDirectorySource } from '#identity/actions/save_directory_source'
import { StartDirectorySync } from '#identity/actions/start_directory_sync'
import {
  TestDirectoryConnection,
  type ConnectionTest,
} from '#identity/actions/test_directory_connection'
import {
  DIRECTORY_PRESETS,
  formatValueTable,
  type DirectoryKind,
  type DirectoryMapping,
} from '#identity/services/directory_mapping'
import { entryErrorMessage, problemMessage } from '#identity/services/directory_messages'
import { valueLabels } from '#identity/services/export_people'
import { withoutBlankFilters } from '#identity/validators/people'
import {
  directoryParamsValidator,
  directoryPresetValidator,
  directorySourceFormValidator,
  formFieldOf,
  NUMBER_RANGES,
  settingsFromForm,
} from '#identity/validators/directory'

/** The password is never kept in the session to refill the form. */
const NEVER_FLASHED_DIRECTORY = [...NEVER_FLASHED, 'bindPassword']

/** Runs listed on a source's page. */
const RUNS_SHOWN = 30

async function sourceFromParams(params: Record<string, unknown>) {
  const [error, input] = await directoryParamsValidator.tryValidate(params)
  return error ? null : DirectorySource.findBy('public_id', input.publicId)
}

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** What the form shows of a mapping. */
function mappingValues(mapping: DirectoryMapping) {
  return {
    mapPersonNo: mapping.personNo,
    mapName: mapping.name,
    mapGender: mapping.gender ?? '',
    mapGenderValues: formatValueTable(mapping.genderValues),
    mapIdentityType: mapping.identityType ?? '',
    mapIdentityTypeValues: formatValueTable(mapping.identityTypeValues),
    mapIdentityTypeFixed: mapping.identityTypeFixed ?? '',
    mapOrgUnit: mapping.orgUnit ?? '',
    mapOrgUnitFixed: mapping.orgUnitFixed ?? '',
    mapEmail: mapping.email ?? '',
    mapPhone: mapping.phone ?? '',
    mapEnrollmentYear: mapping.enrollmentYear ?? '',
  }
}

async function renderForm(
  { view, i18n }: HttpContext,
  source: DirectorySource | null,
  kind: DirectoryKind | null
) {
  const t = i18n.t.bind(i18n)
  const preset = DIRECTORY_PRESETS[kind ?? 'openldap']
  const values = source
    ? {
        name: source.name,
        url: source.url,
        startTls: source.startTls,
        caCertificate: source.caCertificate ?? '',
        bindDn: source.bindDn ?? '',
        baseDn: source.baseDn,
        searchFilter: source.searchFilter,
        scope: source.scope,
        pageSize: source.pageSize,
        timeoutSeconds: source.timeoutSeconds,
        vanishedAction: source.vanishedAction,
        vanishLimitPercent: source.vanishLimitPercent,
        schedule: source.schedule,
        scheduleTime: source.scheduleTime ?? '',
        enabled: source.enabled,
        ...mappingValues(source.mapping),
      }
    : {
        name: '',
        url: preset.url,
        startTls: false,
        caCertificate: '',
        bindDn: '',
        baseDn: '',
        searchFilter: preset.searchFilter,
        scope: 'sub',
        pageSize: preset.pageSize,
        timeoutSeconds: 10,
        vanishedAction: 'suspend',
        vanishLimitPercent: 20,
        schedule: 'off',
        scheduleTime: '02:00',
        enabled: true,
        ...mappingValues(preset.mapping),
      }
  return view.render('pages/identity/directory/form', {
    source,
    kind: source ? null : (kind ?? 'openldap'),
    values,
    scopeOptions: DIRECTORY_SCOPES.map((value) => ({
      value,
      label: t(`directory.scopes.${value}`),
    })),
    vanishedOptions: VANISHED_ACTIONS.map((value) => ({
      value,
      label: t(`directory.vanished_actions.${value}`),
    })),
    scheduleOptions: DIRECTORY_SCHEDULES.map((value) => ({
      value,
      label: t(`directory.schedules.${value}`),
    })),
    typeOptions: [
      { value: '', label: t('directory.no_identity_type') },
      ...IDENTITY_TYPES.map((value) => ({ value, label: t(`identity.identity_types.${value}`) })),
    ],
  })
}

/** The source page: its settings, its last runs and, after a test, what the test found. */
async function renderSource(
  ctx: HttpContext,
  source: DirectorySource,
  test:
    | { ok: true; value: ConnectionTest }
    | { ok: false; message: string; detail: string | null }
    | null = null
) {
  const runs = await DirectorySyncRun.query()
    .where('source_id', source.id)
    .orderBy('id', 'desc')
    .limit(RUNS_SHOWN)
  return ctx.view.render('pages/identity/directory/show', {
    source,
    runs,
    test: test?.ok
      ? {
          ok: true,
          value: {
            ...test.value,
            samples: test.value.samples.map((sample) => ({
              ...sample,
              messages: sample.problems.map((problem) => entryErrorMessage(problem, ctx.i18n)),
            })),
          },
        }
      : test,
  })
}

export default class DirectorySourcesController {
  /** Every directory source with its last run. */
  async index({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'directory_sync.manage')
    const sources = await DirectorySource.query().orderBy('name')
    // A school has a handful of sources: one query each is fine.
    const lastRun = new Map<number, DirectorySyncRun | null>()
    for (const source of sources) {
      lastRun.set(
        source.id,
        await DirectorySyncRun.query().where('source_id', source.id).orderBy('id', 'desc').first()
      )
    }
    return view.render('pages/identity/directory/index', {
      sources: sources.map((source) => ({ source, lastRun: lastRun.get(source.id) ?? null })),
    })
  }

  /** The empty form, filled with the usual settings of an OpenLDAP or an AD server. */
  async create(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'directory_sync.manage')
    const [, input] = await directoryPresetValidator.tryValidate(ctx.request.qs())
    return renderForm(ctx, null, input?.kind ?? null)
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'directory_sync.manage')
    return save(ctx, null)
  }

  async show(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'directory_sync.manage')
    const source = await sourceFromParams(ctx.params)
    if (!source) return notFound(ctx)
    return renderSource(ctx, source)
  }

  async edit(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'directory_sync.manage')
    const source = await sourceFromParams(ctx.params)
    if (!source) return notFound(ctx)
    return renderForm(ctx, source, null)
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'directory_sync.manage')
    const source = await sourceFromParams(ctx.params)
    if (!source) return notFound(ctx)
    return save(ctx, source)
  }

  /**
   * Connects with the saved settings and shows what the first entries look
   * like. The answer is rendered, not flashed: the samples hold names and
   * person numbers, which have no business in the sessions table.
   */
  async test(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'directory_sync.manage')
    const source = await sourceFromParams(ctx.params)
    if (!source) return notFound(ctx)
    const result = await new TestDirectoryConnection().handle(source.publicId)
    ctx.response.header('cache-control', 'no-store')
    if (result.ok) return renderSource(ctx, source, result)
    const problem = problemMessage(
      { code: result.error, detail: result.details?.detail as string | undefined },
      ctx.i18n
    )
    return renderSource(ctx, source, { ok: false, ...problem })
  }

  /** Starts a dry run in the background and shows its page. */
  async preview(ctx: HttpContext) {
    const { response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'directory_sync.manage')
    const source = await sourceFromParams(ctx.params)
    if (!source) return notFound(ctx)
    const result = await new StartDirectorySync().handle(
      { sourcePublicId: source.publicId, mode: 'preview', trigger: 'console' },
      actorFrom(ctx)
    )
    if (!result.ok) {
      session.flash('error', i18n.t(`directory.start_errors.${result.error}`))
      return response.redirect(`/console/directory/sources/${source.publicId}`)
    }
    session.flash('notice', i18n.t('directory.preview_started'))
    return response.redirect(`/console/directory/runs/${result.value.publicId}`)
  }
}

/** Back to the form with the errors next to their fields; the password is not kept. */
function backWithErrors(
  { session, response, i18n }: HttpContext,
  back: string,
  bag: Record<string, string[]>
) {
  session.flashExcept(NEVER_FLASHED_DIRECTORY)
  session.flash('inputErrorsBag', bag)
  session.flash('error', i18n.t('directory.not_saved'))
  return response.redirect(back)
}

/** A Vine error as one of this form's messages. */
function formErrorMessage(
  i18n: HttpContext['i18n'],
  error: { field: string; rule: string; meta?: Record<string, unknown> }
): string {
  const t = (code: string, params?: Record<string, unknown>) =>
    i18n.t(`directory.form_errors.${code}`, params)
  if (error.rule === 'required') return t('required')
  if (error.rule === 'maxLength') return t('too_long', { max: error.meta?.max })
  const range = NUMBER_RANGES[error.field]
  if (range) return t('number_range', range)
  if (error.rule === 'enum' || error.rule === 'boolean') return t('invalid_choice')
  return t(error.field.startsWith('map') ? 'attribute_format' : 'format')
}

async function save(ctx: HttpContext, source: DirectorySource | null) {
  const { request, response, session, i18n } = ctx
  const back = source
    ? `/console/directory/sources/${source.publicId}/edit`
    : '/console/directory/sources/new'
  const [error, form] = await directorySourceFormValidator.tryValidate(
    withoutBlankFilters(request.all())
  )
  if (error) {
    const bag: Record<string, string[]> = {}
    if (error instanceof vineErrors.E_VALIDATION_ERROR) {
      for (const message of error.messages as {
        field: string
        rule: string
        meta?: Record<string, unknown>
      }[]) {
        ;(bag[message.field] ??= []).push(formErrorMessage(i18n, message))
      }
    }
    return backWithErrors(ctx, back, bag)
  }

  const labels = valueLabels()
  const { settings, errors } = settingsFromForm(form, labels, source !== null)
  const saver = new SaveDirectorySource()
  let refused = errors
  if (errors.length) {
    refused = [...errors, ...(await saver.check(settings, source))]
  } else {
    const result = await saver.handle(
      settings,
      source ? { publicId: source.publicId } : null,
      actorFrom(ctx)
    )
    if (result.ok) {
      session.flash('notice', i18n.t('directory.saved_notice', { name: result.value.name }))
      return response.redirect(`/console/directory/sources/${result.value.publicId}`)
    }
    if (result.error === 'not_found') return notFound(ctx)
    refused = (result.details?.errors as typeof errors | undefined) ?? []
  }
  const bag: Record<string, string[]> = {}
  for (const refusal of refused) {
    ;(bag[formFieldOf(refusal.field)] ??= []).push(
      i18n.t(`directory.form_errors.${refusal.code}`, refusal.params ?? {})
    )
  }
  return backWithErrors(ctx, back, bag)
}
