import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { pagerView } from '#core/http/pagination'
import type { Result } from '#core/services/result'
import Audience from '#identity/models/audience'
import Person from '#identity/models/person'
import { CreateAudience, type AudienceAttributes } from '#identity/actions/audience_create'
import { UpdateAudience } from '#identity/actions/audience_update'
import { ArchiveAudience } from '#identity/actions/audience_archive'
import {
  audienceRuleIssues,
  describeAudienceRules,
  emptyAudienceRules,
  translateAudienceIssues,
  type AudienceRuleIssue,
} from '#identity/services/audience_rules'
import { resolveAudience } from '#identity/services/audience_resolver'
import {
  audienceEditorView,
  previewAudience,
  type AudiencePreview,
} from '#identity/services/audience_editor'
import { searchAudiences, AUDIENCES_PER_PAGE } from '#identity/services/audience_directory'
import {
  audienceFiltersValidator,
  audienceFormValidator,
  audienceParamsValidator,
  formValuesFromRules,
  readAudienceEditor,
  withoutBlanks,
  type AudienceFormValues,
} from '#identity/validators/audience'

/** People shown on an audience's detail page. */
const SAMPLE_SIZE = 50

interface FormState {
  audience: Audience | null
  name: string
  description: string
  values: AudienceFormValues
  nameError?: string | null
  issues?: AudienceRuleIssue[]
  preview?: AudiencePreview | null
}

async function renderForm(ctx: HttpContext, state: FormState) {
  const t = ctx.i18n.t.bind(ctx.i18n)
  return ctx.view.render('pages/identity/audiences/form', {
    audience: state.audience,
    name: state.name,
    description: state.description,
    nameError: state.nameError ?? null,
    editor: await audienceEditorView(state.values, {
      issues: translateAudienceIssues(state.issues ?? [], t),
      preview: state.preview,
    }),
  })
}

/** The audience named in the URL, or null (bad id or none such). */
async function findAudience(params: Record<string, unknown>) {
  const [error, input] = await audienceParamsValidator.tryValidate(params)
  return error ? null : Audience.findBy('public_id', input.publicId)
}

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/**
 * Reads the page's fields and the editor's, then either counts (the
 * "preview" button, for browsers without the live count) or hands them to
 * `save`. Problems come back on the same page, as typed.
 */
async function submitForm(
  ctx: HttpContext,
  audience: Audience | null,
  save: (attributes: AudienceAttributes) => Promise<Result<Audience, string>>
) {
  const { request, response, session, i18n } = ctx
  const body = request.all()
  const read = await readAudienceEditor(body.audience)
  const [textError, text] = await audienceFormValidator.tryValidate(withoutBlanks(body))
  const state: FormState = {
    audience,
    name: typeof body.name === 'string' ? body.name : '',
    description: typeof body.description === 'string' ? body.description : '',
    values: read.values,
    nameError: textError ? i18n.t('audiences.form.name_invalid') : null,
  }

  if (body.intent === 'preview') {
    const preview = await previewAudience(read)
    return renderForm(ctx, { ...state, nameError: null, preview, issues: preview.issues })
  }
  if (textError || !read.rules) {
    response.status(422)
    return renderForm(ctx, { ...state, issues: read.issues })
  }
  const result = await save({ ...text, description: text.description ?? null, rules: read.rules })
  if (!result.ok) {
    if (result.error === 'not_found') return notFound(ctx)
    if (result.error === 'archived') {
      session.flash('error', i18n.t('audiences.archived_read_only'))
      return response.redirect(`/console/audiences/${audience?.publicId}`)
    }
    response.status(422)
    return renderForm(ctx, {
      ...state,
      nameError: result.error === 'invalid_name' ? i18n.t('audiences.form.name_invalid') : null,
      issues: audienceRuleIssues(result.details),
    })
  }
  session.flash('notice', i18n.t(audience ? 'audiences.updated' : 'audiences.created'))
  return response.redirect(`/console/audiences/${result.value.publicId}`)
}

export default class AudiencesController {
  /** The audiences, active ones first by default, with a name search. */
  async index({ request, response, view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'audiences.read')
    const [error, input] = await audienceFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('audiences.invalid_filters'))
      return response.redirect('/console/audiences')
    }
    const { page = 1, ...filters } = input
    const paginator = await searchAudiences(filters, page, AUDIENCES_PER_PAGE)
    return view.render('pages/identity/audiences/index', {
      audiences: paginator.all(),
      pager: pagerView(paginator, '/console/audiences', filters),
      filters,
      stateOptions: ['active', 'archived'].map((value) => ({
        value,
        label: i18n.t(`audiences.states.${value}`),
      })),
    })
  }

  /** An empty editor: it selects nobody until something is chosen. */
  async create(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'audiences.write')
    return renderForm(ctx, {
      audience: null,
      name: '',
      description: '',
      values: formValuesFromRules(emptyAudienceRules()),
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'audiences.write')
    return submitForm(ctx, null, (attributes) =>
      new CreateAudience().handle(actorFrom(ctx), attributes)
    )
  }

  /** One audience: its rules in words, how many people it selects now, the first of them. */
  async show(ctx: HttpContext) {
    const { view, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'audiences.read')
    const audience = await findAudience(ctx.params)
    if (!audience) return notFound(ctx)
    const resolved = resolveAudience(audience)
    const sample = await Person.query()
      .whereIn('id', resolved.idsQuery())
      .preload('orgUnit')
      .orderBy('person_no')
      .limit(SAMPLE_SIZE)
    return view.render('pages/identity/audiences/show', {
      audience,
      description: await describeAudienceRules(audience.rules, i18n.t.bind(i18n)),
      count: await resolved.count(),
      sample,
    })
  }

  async edit(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'audiences.write')
    const audience = await findAudience(ctx.params)
    if (!audience) return notFound(ctx)
    if (audience.isArchived) {
      ctx.session.flash('error', ctx.i18n.t('audiences.archived_read_only'))
      return ctx.response.redirect(`/console/audiences/${audience.publicId}`)
    }
    return renderForm(ctx, {
      audience,
      name: audience.name,
      description: audience.description ?? '',
      values: formValuesFromRules(audience.rules),
    })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'audiences.write')
    const audience = await findAudience(ctx.params)
    if (!audience) return notFound(ctx)
    return submitForm(ctx, audience, (attributes) =>
      new UpdateAudience().handle(actorFrom(ctx), audience.publicId, attributes)
    )
  }

  async archive(ctx: HttpContext) {
    const { bouncer, session, response, i18n } = ctx
    await bouncer.authorize('permit', 'audiences.write')
    const audience = await findAudience(ctx.params)
    if (!audience) return notFound(ctx)
    const result = await new ArchiveAudience().handle(actorFrom(ctx), audience.publicId)
    if (result.ok) session.flash('notice', i18n.t('audiences.archived'))
    else session.flash('error', i18n.t(`audiences.archive_errors.${result.error}`))
    return response.redirect(`/console/audiences/${audience.publicId}`)
  }

  /**
   * The live count: the editor's script posts the form here and shows the
   * answer. JSON, for the script; rules with problems answer `count: null`
   * with messages by rule kind.
   */
  async preview({ request, response, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'audiences.read')
    const read = await readAudienceEditor(request.input('audience'))
    const preview = await previewAudience(read)
    const t = i18n.t.bind(i18n)
    if (preview.count === null) {
      // Rules with problems are an answer of the preview, not a failed
      // request: the editor shows the messages and keeps counting.
      return response.json({
        count: null,
        text: i18n.t('audiences.preview.invalid'),
        issues: translateAudienceIssues(preview.issues, t),
      })
    }
    return response.json({
      count: preview.count,
      text: i18n.t('audiences.preview.count', { count: preview.count }),
      unknownInclude: preview.unknownInclude.length,
      unknownExclude: preview.unknownExclude.length,
      unknownText:
        preview.unknownInclude.length + preview.unknownExclude.length > 0
          ? i18n.t('audiences.preview.unknown', {
              count: preview.unknownInclude.length + preview.unknownExclude.length,
              sample: [...preview.unknownInclude, ...preview.unknownExclude]
                .slice(0, 10)
                .join(', '),
            })
          : null,
      issues: {},
    })
  }
}
