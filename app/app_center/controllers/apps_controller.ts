import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { schoolTimeZone } from '#appliance/services/school_settings'
import Audience from '#identity/models/audience'
import CampusApp from '#app_center/models/campus_app'
import { appFieldErrorsOf, SaveApp, type AppInput } from '#app_center/actions/save_app'
import { SetAppEnabled } from '#app_center/actions/set_app_enabled'
import { RotateClientSecret } from '#app_center/actions/rotate_client_secret'
import {
  APP_CATEGORIES,
  APP_KINDS,
  CAS_SERVICE_MATCHES,
  GRANT_TYPES,
  ID_TOKEN_ALGS,
  OIDC_SCOPES,
  splitUriList,
} from '#app_center/services/app_rules'
import { launchCountsByApp, launchesPerDay } from '#app_center/services/launch_stats'
import { oidcIssuer } from '#app_center/services/oidc_provider'
import { appFormValidator, appParamsValidator } from '#app_center/validators/app'

const CHART_DAYS = 30

/** Form values that are lists arrive as one string when a single box is ticked. */
const LIST_FIELDS = ['allowedScopes', 'grantTypes'] as const

/** Drops empty fields: the form sends every field, an empty one means "not set". */
function formInput(input: Record<string, unknown>): Record<string, unknown> {
  const cleaned = Object.fromEntries(
    Object.entries(input).filter(
      ([, value]) => value !== '' && value !== null && value !== undefined
    )
  )
  for (const field of LIST_FIELDS) {
    if (cleaned[field] !== undefined) cleaned[field] = [cleaned[field]].flat()
  }
  return cleaned
}

async function appFromParams(params: Record<string, unknown>) {
  const [error, input] = await appParamsValidator.tryValidate(params)
  if (error) return null
  return CampusApp.query().where('public_id', input.publicId).preload('audience').first()
}

async function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** What the app form offers: categories, kinds, scopes and the audiences that may be chosen. */
async function formOptions({ i18n }: HttpContext, app: CampusApp | null) {
  const t = i18n.t.bind(i18n)
  const audiences = await Audience.query()
    .where((query) => {
      query.whereNull('archived_at')
      if (app?.audienceId) query.orWhere('id', app.audienceId)
    })
    .orderBy('name')
  return {
    categoryOptions: APP_CATEGORIES.map((value) => ({
      value,
      label: t(`apps.categories.${value}`),
    })),
    kindOptions: APP_KINDS.map((value) => ({ value, label: t(`apps.kinds.${value}`) })),
    matchOptions: CAS_SERVICE_MATCHES.map((value) => ({
      value,
      label: t(`apps.cas_matches.${value}`),
    })),
    authMethodOptions: ['client_secret_basic', 'client_secret_post'].map((value) => ({
      value,
      label: value,
    })),
    algOptions: ID_TOKEN_ALGS.map((value) => ({ value, label: value })),
    audienceOptions: [
      { value: '', label: t('apps.form.everyone') },
      ...audiences.map((audience) => ({ value: audience.publicId, label: audience.name })),
    ],
    scopes: OIDC_SCOPES,
    grantTypes: GRANT_TYPES,
  }
}

/** The form's values: what was flashed back after an error, or the app's own. */
function formValues(app: CampusApp | null) {
  return {
    nameZh: app?.nameZh ?? '',
    nameEn: app?.nameEn ?? '',
    description: app?.description ?? '',
    category: app?.category ?? 'other',
    kind: app?.kind ?? 'oidc',
    launchUrl: app?.launchUrl ?? '',
    redirectUris: (app?.redirectUris ?? []).join('\n'),
    postLogoutRedirectUris: (app?.postLogoutRedirectUris ?? []).join('\n'),
    casService: app?.casService ?? '',
    casServiceMatch: app?.casServiceMatch ?? 'exact',
    audience: app?.audience?.publicId ?? '',
    partnerZone: app?.partnerZone ?? false,
    sortOrder: String(app?.sortOrder ?? 0),
    enabled: app?.enabled ?? true,
    firstParty: app?.firstParty ?? false,
    publicClient: app?.publicClient ?? false,
    tokenEndpointAuthMethod: app?.tokenEndpointAuthMethod ?? 'client_secret_basic',
    allowedScopes: app?.allowedScopes ?? ['openid', 'profile'],
    grantTypes: app?.grantTypes ?? ['authorization_code'],
    idTokenAlg: app?.idTokenAlg ?? 'RS256',
  }
}

/** The URLs a developer needs, for the app page and the credentials page. */
function endpoints() {
  const issuer = oidcIssuer()
  return {
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
    deviceVerification: `${issuer}/device`,
  }
}

/** Answers with the app's credentials: the only page that ever shows its secret. */
function renderCredentials(ctx: HttpContext, app: CampusApp, secret: string, created: boolean) {
  ctx.response.header('Cache-Control', 'no-store')
  return ctx.view.render('pages/app_center/credentials', {
    app,
    secret,
    created,
    endpoints: endpoints(),
  })
}

function backWithErrors(ctx: HttpContext, back: string, bag: Record<string, string[]>) {
  ctx.session.flashExcept([...NEVER_FLASHED, 'icon'])
  ctx.session.flash('inputErrorsBag', bag)
  ctx.session.flash('error', ctx.i18n.t('apps.not_saved'))
  return ctx.response.redirect(back)
}

/**
 * Validates the form, hands it to SaveApp and maps its field errors to
 * inline messages in the reader's language.
 */
async function save(ctx: HttpContext, app: CampusApp | null) {
  const { request, response, session, i18n } = ctx
  const back = app ? `/console/apps/${app.publicId}/edit` : '/console/apps/new'
  const [error, data] = await appFormValidator.tryValidate(formInput(request.all()), {
    messagesProvider: i18n.createMessagesProvider(),
  })
  const icon = request.file('icon', { size: '512kb', extnames: ['png', 'jpg', 'jpeg', 'webp'] })
  const iconProblem =
    icon && !icon.isValid
      ? icon.errors.some((problem) => problem.type === 'size')
        ? 'icon_too_large'
        : 'icon_not_image'
      : null
  if (error || iconProblem || !data) {
    const bag: Record<string, string[]> = {}
    if (error instanceof vineErrors.E_VALIDATION_ERROR) {
      for (const message of error.messages as { field: string; message: string }[]) {
        ;(bag[message.field.replace(/\.\d+$/, '')] ??= []).push(message.message)
      }
    }
    if (iconProblem) bag.icon = [i18n.t(`apps.errors.${iconProblem}`)]
    return backWithErrors(ctx, back, bag)
  }

  const input: AppInput = {
    nameZh: data.nameZh,
    nameEn: data.nameEn ?? null,
    description: data.description ?? null,
    category: data.category,
    kind: data.kind,
    launchUrl: data.launchUrl ?? null,
    redirectUris: splitUriList(data.redirectUris),
    postLogoutRedirectUris: splitUriList(data.postLogoutRedirectUris),
    casService: data.casService ?? null,
    casServiceMatch: data.casServiceMatch ?? null,
    audience: data.audience ?? null,
    partnerZone: data.partnerZone === true,
    sortOrder: data.sortOrder ?? 0,
    enabled: data.enabled === true,
    firstParty: data.firstParty === true,
    publicClient: data.publicClient === true,
    tokenEndpointAuthMethod: data.tokenEndpointAuthMethod ?? null,
    allowedScopes: data.allowedScopes ?? [],
    grantTypes: data.grantTypes ?? [],
    idTokenAlg: data.idTokenAlg ?? 'RS256',
  }
  if (icon?.tmpPath) input.icon = { sourcePath: icon.tmpPath }
  else if (app && data.removeIcon) input.icon = null

  const result = await new SaveApp().handle(
    input,
    app ? { mode: 'update', publicId: app.publicId } : { mode: 'create' },
    actorFrom(ctx),
    ctx.auth.user?.id ?? null
  )
  if (!result.ok) {
    if (result.error === 'not_found') return notFound(ctx)
    const bag: Record<string, string[]> = {}
    for (const { field, code } of appFieldErrorsOf(result)) {
      ;(bag[field] ??= []).push(i18n.t(`apps.errors.${code}`))
    }
    return backWithErrors(ctx, back, bag)
  }
  const saved = result.value
  if (saved.secret) return renderCredentials(ctx, saved.app, saved.secret, saved.created)
  session.flash(
    'notice',
    i18n.t(
      saved.created ? 'apps.created' : saved.changed.length ? 'apps.updated' : 'apps.unchanged'
    )
  )
  return response.redirect(`/console/apps/${saved.app.publicId}`)
}

/** The app center in the console (apps.manage). */
export default class AppsController {
  /** Every app with its launch counts. */
  async index({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'apps.manage')
    const apps = await CampusApp.query()
      .preload('audience')
      .orderBy('category')
      .orderBy('sort_order')
      .orderBy('name_zh')
    const counts = await launchCountsByApp()
    return view.render('pages/app_center/index', {
      apps: apps.map((app) => ({ app, launches: counts.get(app.id) ?? { total: 0, recent: 0 } })),
    })
  }

  async create(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'apps.manage')
    return ctx.view.render('pages/app_center/form', {
      app: null,
      values: formValues(null),
      ...(await formOptions(ctx, null)),
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'apps.manage')
    return save(ctx, null)
  }

  /** One app: its settings, what a developer needs to connect it, and its launches per day. */
  async show(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'apps.manage')
    const app = await appFromParams(ctx.params)
    if (!app) return notFound(ctx)
    const perDay = await launchesPerDay(app.id, schoolTimeZone(), CHART_DAYS)
    const allCounts = await launchCountsByApp()
    const counts = allCounts.get(app.id) ?? { total: 0, recent: 0 }
    return ctx.view.render('pages/app_center/show', {
      app,
      counts,
      endpoints: endpoints(),
      chart: {
        labels: perDay.map(({ day }) => day.slice(5)),
        values: perDay.map(({ count }) => count),
      },
    })
  }

  async edit(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'apps.manage')
    const app = await appFromParams(ctx.params)
    if (!app) return notFound(ctx)
    return ctx.view.render('pages/app_center/form', {
      app,
      values: formValues(app),
      ...(await formOptions(ctx, app)),
    })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'apps.manage')
    const app = await appFromParams(ctx.params)
    if (!app) return notFound(ctx)
    return save(ctx, app)
  }

  async enable(ctx: HttpContext) {
    return this.setEnabled(ctx, true)
  }

  async disable(ctx: HttpContext) {
    return this.setEnabled(ctx, false)
  }

  private async setEnabled(ctx: HttpContext, enabled: boolean) {
    const { bouncer, session, i18n, response } = ctx
    await bouncer.authorize('permit', 'apps.manage')
    const app = await appFromParams(ctx.params)
    if (!app) return notFound(ctx)
    const result = await new SetAppEnabled().handle(app.publicId, enabled, actorFrom(ctx))
    if (result.ok)
      session.flash('notice', i18n.t(enabled ? 'apps.enabled_notice' : 'apps.disabled_notice'))
    return response.redirect(`/console/apps/${app.publicId}`)
  }

  /** Replaces a confidential client's secret and shows the new one once. */
  async rotateSecret(ctx: HttpContext) {
    const { bouncer, session, i18n, response } = ctx
    await bouncer.authorize('permit', 'apps.manage')
    const app = await appFromParams(ctx.params)
    if (!app) return notFound(ctx)
    const result = await new RotateClientSecret().handle(app.publicId, actorFrom(ctx))
    if (!result.ok) {
      session.flash('error', i18n.t('apps.errors.not_confidential'))
      return response.redirect(`/console/apps/${app.publicId}`)
    }
    return renderCredentials(ctx, result.value.app, result.value.secret, false)
  }
}
