import { existsSync } from 'node:fs'
import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { actorFrom } from '#core/http/actor'
import { currentSchool } from '#appliance/services/school_settings'
import Audience from '#identity/models/audience'
import { IDENTITY_TYPES } from '#identity/models/person'
import CardType from '#cards/models/card_type'
import CardUpgradeRule from '#cards/models/card_upgrade_rule'
import { SaveCardType, type CardTypeInput } from '#cards/actions/save_card_type'
import { DEFAULT_FACE, FACE_FIELDS, type CardFace } from '#cards/services/card_face'
import { LIMITS, VALIDITY_KINDS, type ValidityRule } from '#cards/services/validity'
import { UPGRADE_TRIGGERS } from '#cards/services/card_rules'
import { faceView } from '#cards/services/card_view'
import { faceImageContentType, faceImagePath, MAX_IMAGE_BYTES } from '#cards/services/face_images'
import { DEFAULT_CODE_POLICY, PERMISSION_TAG_NAMES, yuanToFen } from '#cards/services/code_policy'
import {
  cardTypeFormValidator,
  faceImageParamsValidator,
  publicIdParamsValidator,
  withoutBlanks,
} from '#cards/validators/cards'

/** The form's flat fields, as the page shows them and posts them. */
interface TypeFormValues {
  code: string
  nameZh: string
  nameEn: string
  identityTypes: string[]
  audience: string
  validityKind: string
  validityUntil: string
  validityYears: string
  validityGraceDays: string
  validityMaxDays: string
  faceTitle: string
  colorBackground: string
  colorText: string
  colorAccent: string
  show: Record<string, boolean>
  permissions: string[]
  offlineCount: string
  offlineDay: string
  offlineSingle: string
  enabled: boolean
  sortOrder: string
}

/** Fen as yuan in a form field: 3000 → "30", 1250 → "12.50". */
function yuanText(fen: number): string {
  return fen % 100 === 0 ? String(fen / 100) : (fen / 100).toFixed(2)
}

function valuesOf(type: CardType | null): TypeFormValues {
  const face: CardFace = type?.face ?? DEFAULT_FACE
  const validity: ValidityRule = type?.validity ?? { kind: 'none' }
  const policy = type?.codePolicy ?? DEFAULT_CODE_POLICY
  return {
    code: type?.code ?? '',
    nameZh: type?.nameZh ?? '',
    nameEn: type?.nameEn ?? '',
    identityTypes: type?.identityTypes ?? [],
    audience: type?.audience?.publicId ?? '',
    validityKind: validity.kind,
    validityUntil: validity.kind === 'fixed_date' ? validity.until : '',
    validityYears: validity.kind === 'years' ? String(validity.years) : '4',
    validityGraceDays: validity.kind === 'graduation' ? String(validity.graceDays) : '90',
    validityMaxDays: validity.kind === 'window' ? String(validity.maxDays) : '30',
    faceTitle: face.title,
    colorBackground: face.colors.background,
    colorText: face.colors.text,
    colorAccent: face.colors.accent,
    show: { ...face.fields },
    permissions: [...policy.permissions],
    offlineCount: String(policy.offline.maxCountPerDay),
    offlineDay: yuanText(policy.offline.maxAmountPerDayFen),
    offlineSingle: yuanText(policy.offline.maxSingleAmountFen),
    enabled: type?.enabled ?? true,
    sortOrder: String(type?.sortOrder ?? 100),
  }
}

/** The submitted form as typed, to show it again with its errors. */
function valuesFromBody(body: Record<string, any>, type: CardType | null): TypeFormValues {
  const text = (value: unknown) => (typeof value === 'string' ? value : '')
  const list = body.identityTypes
  return {
    ...valuesOf(type),
    code: text(body.code),
    nameZh: text(body.nameZh),
    nameEn: text(body.nameEn),
    identityTypes: Array.isArray(list) ? list.map(String) : typeof list === 'string' ? [list] : [],
    audience: text(body.audience),
    validityKind: text(body.validityKind) || 'none',
    validityUntil: text(body.validityUntil),
    validityYears: text(body.validityYears),
    validityGraceDays: text(body.validityGraceDays),
    validityMaxDays: text(body.validityMaxDays),
    faceTitle: text(body.faceTitle),
    colorBackground: text(body.colorBackground) || DEFAULT_FACE.colors.background,
    colorText: text(body.colorText) || DEFAULT_FACE.colors.text,
    colorAccent: text(body.colorAccent) || DEFAULT_FACE.colors.accent,
    show: Object.fromEntries(
      FACE_FIELDS.map((field) => [field, !!body[`show${field[0].toUpperCase()}${field.slice(1)}`]])
    ),
    permissions: Array.isArray(body.permissions) ? body.permissions.map(String) : [],
    offlineCount: text(body.offlineCount),
    offlineDay: text(body.offlineDay),
    offlineSingle: text(body.offlineSingle),
    enabled: !!body.enabled,
    sortOrder: text(body.sortOrder),
  }
}

async function typeFromParams(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return CardType.query().where('public_id', input.publicId).preload('audience').first()
}

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

async function renderForm(
  ctx: HttpContext,
  type: CardType | null,
  values: TypeFormValues,
  errors: Record<string, string> = {}
) {
  const { i18n } = ctx
  const t = i18n.t.bind(i18n)
  const school = await currentSchool()
  const audiences = await Audience.query().whereNull('archived_at').orderBy('name')
  const face: CardFace = {
    title: values.faceTitle,
    colors: {
      background: values.colorBackground,
      text: values.colorText,
      accent: values.colorAccent,
    },
    fields: Object.fromEntries(FACE_FIELDS.map((field) => [field, !!values.show[field]])) as any,
    background: type?.face.background ?? null,
    logo: type?.face.logo ?? null,
  }
  return ctx.view.render('pages/cards/types/form', {
    type,
    values,
    errors,
    identityTypeOptions: IDENTITY_TYPES.map((value) => ({
      value,
      label: t(`identity.identity_types.${value}`),
      checked: values.identityTypes.includes(value),
    })),
    audienceOptions: [
      { value: '', label: t('cards.types.form.no_audience') },
      ...audiences.map((audience) => ({ value: audience.publicId, label: audience.name })),
    ],
    validityOptions: VALIDITY_KINDS.map((value) => ({
      value,
      label: t(`cards.validity.kinds.${value}`),
    })),
    fieldOptions: FACE_FIELDS.map((field) => ({
      name: `show${field[0].toUpperCase()}${field.slice(1)}`,
      label: t(`cards.face.fields.${field}`),
      checked: !!values.show[field],
    })),
    limits: LIMITS,
    permissionTags: PERMISSION_TAG_NAMES,
    maxKilobytes: {
      background: MAX_IMAGE_BYTES.background / 1024,
      logo: MAX_IMAGE_BYTES.logo / 1024,
    },
    preview: faceView({
      key: 'preview',
      type,
      face,
      locale: i18n.locale,
      schoolName: school?.name ?? '',
      typeName:
        (i18n.locale.startsWith('zh') ? values.nameZh : values.nameEn) ||
        t('cards.face.sample.type'),
      sample: {
        name: t('cards.face.sample.name'),
        org: t('cards.face.sample.org'),
        number: '2601 2345 6789',
        validity: t('cards.face.valid_until', { date: '2027-07-01' }),
        photoUrl: null,
      },
    }),
  })
}

export default class CardTypesController {
  /** Every card type with its face, and the upgrade rules. */
  async index({ view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const t = i18n.t.bind(i18n)
    const school = await currentSchool()
    const types = await CardType.query().preload('audience').orderBy('sort_order').orderBy('id')
    const rules = await CardUpgradeRule.query().preload('fromType').preload('toType').orderBy('id')
    const counts = await CardType.query()
      .join('cards', 'cards.card_type_id', 'card_types.id')
      .whereIn('cards.state', ['pending_activation', 'active', 'frozen'])
      .groupBy('card_types.id')
      .select('card_types.id')
      .count('* as total')
    const liveCount = new Map(counts.map((row) => [row.id, Number(row.$extras.total)]))
    return view.render('pages/cards/types/index', {
      types: types.map((type) => ({
        type,
        name: type.nameIn(i18n.locale),
        live: liveCount.get(type.id) ?? 0,
        face: faceView({
          key: type.publicId,
          type,
          face: type.face,
          locale: i18n.locale,
          schoolName: school?.name ?? '',
          typeName: type.nameIn(i18n.locale),
          sample: {
            name: t('cards.face.sample.name'),
            org: t('cards.face.sample.org'),
            number: '2601 2345 6789',
            validity: t('cards.face.valid_until', { date: '2027-07-01' }),
            photoUrl: null,
          },
        }),
      })),
      rules,
      typeOptions: types.map((type) => ({
        value: type.publicId,
        label: type.nameIn(i18n.locale),
      })),
      targetOptions: types
        .filter((type) => !type.isTemporary)
        .map((type) => ({ value: type.publicId, label: type.nameIn(i18n.locale) })),
      triggerOptions: UPGRADE_TRIGGERS.map((value) => ({
        value,
        label: t(`cards.upgrades.triggers.${value}`),
      })),
    })
  }

  async create(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'card_types.manage')
    return renderForm(ctx, null, valuesOf(null))
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'card_types.manage')
    return save(ctx, null)
  }

  async edit(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'card_types.manage')
    const type = await typeFromParams(ctx.params)
    if (!type) return notFound(ctx)
    return renderForm(ctx, type, valuesOf(type))
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'card_types.manage')
    const type = await typeFromParams(ctx.params)
    if (!type) return notFound(ctx)
    return save(ctx, type)
  }

  /** A face image from the storage root, to staff who may read cards. */
  async faceImage({ params, response, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const [error, input] = await faceImageParamsValidator.tryValidate(params)
    if (error) return response.notFound()
    const type = await CardType.findBy('public_id', input.publicId)
    const relative = type?.face[input.kind]
    if (!relative) return response.notFound()
    const path = faceImagePath(relative)
    if (!existsSync(path)) return response.notFound()
    response.header('Content-Type', faceImageContentType(relative))
    response.header('Cache-Control', 'private, max-age=86400')
    response.header('X-Content-Type-Options', 'nosniff')
    return response.download(path)
  }
}

/**
 * Validates the form, hands it to SaveCardType, and shows the form again
 * with inline errors when something is refused.
 */
async function save(ctx: HttpContext, type: CardType | null) {
  const { request, response, session, i18n } = ctx
  const body = request.all()
  const again = (errors: Record<string, string>) => {
    response.status(422)
    return renderForm(ctx, type, valuesFromBody(body, type), errors)
  }
  const [error, data] = await cardTypeFormValidator.tryValidate(withoutBlanks(body), {
    messagesProvider: i18n.createMessagesProvider(),
  })
  const upload = (kind: 'background' | 'logo') =>
    request.file(kind, { size: MAX_IMAGE_BYTES[kind], extnames: ['jpg', 'jpeg', 'png', 'webp'] })
  const background = upload('background')
  const logo = upload('logo')
  const errors: Record<string, string> = {}
  for (const [kind, file] of [
    ['background', background],
    ['logo', logo],
  ] as const) {
    if (file && !file.isValid)
      errors[kind] = i18n.t(
        file.errors.some((problem) => problem.type === 'size')
          ? 'cards.errors.image_too_large'
          : 'cards.errors.image_not_image',
        { limit: MAX_IMAGE_BYTES[kind] / 1024 }
      )
  }
  if (error instanceof vineErrors.E_VALIDATION_ERROR) {
    for (const message of error.messages as { field: string; message: string }[]) {
      errors[message.field.split('.')[0]] ??= message.message
    }
  }
  // The campus-code policy: a form without any of its fields keeps the type's.
  const policyFields = ['permissions', 'offlineCount', 'offlineDay', 'offlineSingle']
  let codePolicy: CardTypeInput['codePolicy']
  if (data && policyFields.some((field) => field in body)) {
    const day = yuanToFen(data.offlineDay)
    const single = yuanToFen(data.offlineSingle)
    if (day === null) errors.offlineDay = i18n.t('cards.errors.offline_amount_invalid')
    if (single === null) errors.offlineSingle = i18n.t('cards.errors.offline_amount_invalid')
    codePolicy = {
      permissions: data.permissions ?? [],
      offline: {
        maxCountPerDay: data.offlineCount ?? 0,
        maxAmountPerDayFen: day ?? 0,
        maxSingleAmountFen: single ?? 0,
      },
    }
  }
  if (!data || Object.keys(errors).length > 0) return again(errors)

  const images: CardTypeInput['images'] = {}
  if (background?.tmpPath) images.background = { sourcePath: background.tmpPath }
  else if (data.removeBackground) images.background = null
  if (logo?.tmpPath) images.logo = { sourcePath: logo.tmpPath }
  else if (data.removeLogo) images.logo = null

  const result = await new SaveCardType().handle(
    {
      code: data.code,
      nameZh: data.nameZh,
      nameEn: data.nameEn,
      identityTypes: data.identityTypes ?? [],
      audience: data.audience ?? null,
      validity: {
        kind: data.validityKind,
        until: data.validityUntil,
        years: data.validityYears,
        graceDays: data.validityGraceDays,
        maxDays: data.validityMaxDays,
      },
      face: {
        title: data.faceTitle ?? '',
        colors: {
          background: data.colorBackground,
          text: data.colorText,
          accent: data.colorAccent,
        },
        fields: {
          name: !!data.showName,
          photo: !!data.showPhoto,
          number: !!data.showNumber,
          org: !!data.showOrg,
          type: !!data.showType,
          validity: !!data.showValidity,
        },
      },
      enabled: !!data.enabled,
      sortOrder: data.sortOrder,
      codePolicy,
      images,
    },
    type ? { mode: 'update', publicId: type.publicId } : { mode: 'create' },
    actorFrom(ctx)
  )
  if (!result.ok) {
    if (result.error === 'not_found') return notFound(ctx)
    const field = String(result.details?.field ?? 'form')
    return again({
      [field]: i18n.t(`cards.errors.${result.error}`, {
        limit: field === 'logo' ? MAX_IMAGE_BYTES.logo / 1024 : MAX_IMAGE_BYTES.background / 1024,
      }),
    })
  }
  session.flash('notice', i18n.t(type ? 'cards.types.updated' : 'cards.types.created'))
  return response.redirect('/console/card-types')
}
