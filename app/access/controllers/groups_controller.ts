import type { HttpContext } from '@adonisjs/core/http'
import Audience from '#identity/models/audience'
import { resolveAudience } from '#identity/services/audience_resolver'
import { actorFrom } from '#core/http/actor'
import AccessGroup from '#access/models/access_group'
import type { TimeWindow } from '#access/services/access_decision'
import { describeWindows, WEEKDAYS } from '#access/services/access_rules'
import { SaveGroup } from '#access/actions/save_group'
import { groupValidator, publicIdParamsValidator, withoutBlanks } from '#access/validators/access'
import { zoneTree } from '#access/controllers/zones_controller'

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

async function groupFrom(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return AccessGroup.query()
    .where('public_id', input.publicId)
    .preload('zones')
    .preload('audience')
    .first()
}

/** A window row as the form shows it: days ticked, times as typed. */
interface WindowRow {
  days: string[]
  from: string
  to: string
}

interface GroupValues {
  name: string
  audience: string
  zones: string[]
  enabled: boolean
  description: string
  windows: WindowRow[]
}

/** Rows of the windows editor: the group's windows and blank rows to add more. */
function windowRows(windows: WindowRow[]): WindowRow[] {
  const blank = Math.max(2, 4 - windows.length)
  return [...windows, ...Array.from({ length: blank }, () => ({ days: [], from: '', to: '' }))]
}

function rowsOf(windows: TimeWindow[]): WindowRow[] {
  return windows.map((window) => ({
    days: window.days.map(String),
    from: window.from,
    to: window.to,
  }))
}

/** The windows rows of a posted form (windows[0][days][]=1 …). */
function postedRows(body: Record<string, unknown>): WindowRow[] {
  const raw = body.windows
  const list = Array.isArray(raw)
    ? raw
    : raw && typeof raw === 'object'
      ? Object.values(raw as Record<string, unknown>)
      : []
  return list.slice(0, 20).map((row: any) => ({
    days: (Array.isArray(row?.days) ? row.days : row?.days ? [row.days] : []).map(String),
    from: typeof row?.from === 'string' ? row.from : '',
    to: typeof row?.to === 'string' ? row.to : '',
  }))
}

async function renderForm(
  ctx: HttpContext,
  group: AccessGroup | null,
  values: GroupValues,
  error: string | null = null
) {
  const t = ctx.i18n.t.bind(ctx.i18n)
  const audiences = await Audience.query()
    .where((query) => {
      query.whereNull('archived_at')
      if (group) query.orWhere('id', group.audienceId)
    })
    .orderBy('name')
  const tree = await zoneTree()
  return ctx.view.render('pages/access/group_form', {
    group,
    values,
    error,
    rows: windowRows(values.windows),
    weekdays: WEEKDAYS.map((day) => ({ value: String(day), label: t(`access.weekdays.${day}`) })),
    audienceOptions: [
      { value: '', label: t('access.groups.pick_audience') },
      ...audiences.map((audience) => ({ value: audience.publicId, label: audience.name })),
    ],
    zoneOptions: tree.map((entry) => ({
      value: entry.zone.publicId,
      label: entry.label,
      checked: values.zones.includes(entry.zone.publicId),
    })),
  })
}

export default class GroupsController {
  /** Every group: its audience (with its size now), windows and zones. */
  async index({ view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'access.view')
    const groups = await AccessGroup.query().preload('audience').preload('zones').orderBy('name')
    const dayName = (day: number) => i18n.t(`access.weekdays.${day}`)
    const rows = []
    for (const group of groups) {
      rows.push({
        group,
        windows: describeWindows(group.windows, dayName),
        zones: group.zones.map((zone) => zone.name).sort(),
        members: await resolveAudience(group.audience).count(),
      })
    }
    return view.render('pages/access/groups', { rows })
  }

  async create(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    return renderForm(ctx, null, {
      name: '',
      audience: '',
      zones: [],
      enabled: true,
      description: '',
      windows: [{ days: ['1', '2', '3', '4', '5', '6', '7'], from: '06:00', to: '23:30' }],
    })
  }

  async edit(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const group = await groupFrom(ctx.params)
    if (!group) return notFound(ctx)
    return renderForm(ctx, group, {
      name: group.name,
      audience: group.audience.publicId,
      zones: group.zones.map((zone) => zone.publicId),
      enabled: group.enabled,
      description: group.description ?? '',
      windows: rowsOf(group.windows),
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    return save(ctx, null)
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const group = await groupFrom(ctx.params)
    if (!group) return notFound(ctx)
    return save(ctx, group)
  }
}

async function save(ctx: HttpContext, group: AccessGroup | null) {
  const { request, response, i18n, session } = ctx
  const body = request.all()
  const zones = Array.isArray(body.zones)
    ? body.zones.map(String)
    : body.zones
      ? [String(body.zones)]
      : []
  const rows = postedRows(body)
  const values: GroupValues = {
    name: typeof body.name === 'string' ? body.name : '',
    audience: typeof body.audience === 'string' ? body.audience : '',
    zones,
    enabled: !!body.enabled,
    description: typeof body.description === 'string' ? body.description : '',
    windows: rows.filter((row) => row.days.length > 0 || row.from || row.to),
  }
  const again = (code: string, details?: Record<string, unknown>) => {
    response.status(422)
    return renderForm(ctx, group, values, i18n.t(`access.errors.${code}`, details ?? {}))
  }
  const [error, input] = await groupValidator.tryValidate(
    withoutBlanks({
      name: body.name,
      audience: body.audience,
      zones,
      enabled: body.enabled,
      description: body.description,
    })
  )
  if (error) return again('group_invalid')
  const result = await new SaveGroup().handle(
    {
      group: group?.publicId ?? null,
      name: input.name,
      audience: input.audience,
      zones: input.zones ?? [],
      windows: rows,
      enabled: input.enabled ?? false,
      description: input.description ?? null,
    },
    actorFrom(ctx)
  )
  if (!result.ok) return again(result.error, { row: String(result.details?.row ?? '') })
  session.flash('notice', i18n.t('access.groups.saved'))
  return response.redirect('/console/access/groups')
}
