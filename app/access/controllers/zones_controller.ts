import type { HttpContext } from '@adonisjs/core/http'
import db from '@adonisjs/lucid/services/db'
import { actorFrom } from '#core/http/actor'
import AccessZone from '#access/models/access_zone'
import AccessPoint, { POINT_KINDS } from '#access/models/access_point'
import { POINT_DIRECTIONS } from '#access/services/access_decision'
import { findPoint, snapshotForPoint } from '#access/services/access_snapshot'
import { SaveZone } from '#access/actions/save_zone'
import { SavePoint } from '#access/actions/save_point'
import {
  pointValidator,
  publicIdParamsValidator,
  withoutBlanks,
  zoneValidator,
} from '#access/validators/access'

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

async function publicIdFrom(params: Record<string, unknown>): Promise<string | null> {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  return error ? null : input.publicId
}

/** Zones in tree order, each with its depth, for lists and pickers. */
export async function zoneTree(): Promise<{ zone: AccessZone; depth: number; label: string }[]> {
  const zones = await AccessZone.query().orderBy('code')
  const children = new Map<number | null, AccessZone[]>()
  for (const zone of zones) {
    const siblings = children.get(zone.parentId) ?? []
    siblings.push(zone)
    children.set(zone.parentId, siblings)
  }
  const ids = new Set(zones.map((zone) => zone.id))
  const out: { zone: AccessZone; depth: number; label: string }[] = []
  const walk = (parent: number | null, depth: number) => {
    for (const zone of children.get(parent) ?? []) {
      out.push({ zone, depth, label: `${'— '.repeat(depth)}${zone.name} (${zone.code})` })
      walk(zone.id, depth + 1)
    }
  }
  walk(null, 0)
  // A zone whose parent is missing would be lost to the walk: list it at the top.
  for (const zone of zones) {
    if (zone.parentId !== null && !ids.has(zone.parentId)) {
      out.push({ zone, depth: 0, label: `${zone.name} (${zone.code})` })
    }
  }
  return out
}

async function terminalOptions(t: HttpContext['i18n']['t']) {
  const rows = await db
    .from('terminals')
    .whereIn('kind', ['door', 'gate'])
    .whereNot('status', 'revoked')
    .orderBy('name')
    .select('public_id', 'name', 'kind')
  return [
    { value: '', label: t('access.points.no_terminal') },
    ...rows.map((row) => ({ value: row.public_id, label: `${row.name} (${row.kind})` })),
  ]
}

export default class ZonesController {
  /** Zones as a tree, and every access point with its zone and terminal. */
  async index({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'access.view')
    const tree = await zoneTree()
    const points = await AccessPoint.query().preload('zone').orderBy('code')
    const terminalIds = points.flatMap((point) => (point.terminalId ? [point.terminalId] : []))
    const terminals = terminalIds.length
      ? await db.from('terminals').whereIn('id', terminalIds).select('id', 'name', 'public_id')
      : []
    const terminalNames = new Map(terminals.map((row) => [Number(row.id), row.name as string]))
    const versions = await db.from('access_snapshots').select('point_id', 'version')
    const versionOf = new Map(versions.map((row) => [Number(row.point_id), Number(row.version)]))
    return view.render('pages/access/zones', {
      tree,
      points: points.map((point) => ({
        point,
        terminal: point.terminalId ? (terminalNames.get(point.terminalId) ?? null) : null,
        version: versionOf.get(point.id) ?? null,
      })),
    })
  }

  async createZone(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    return renderZoneForm(ctx, null, { code: '', name: '', parent: '', description: '' })
  }

  async editZone(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const publicId = await publicIdFrom(ctx.params)
    const zone = publicId ? await AccessZone.findBy('public_id', publicId) : null
    if (!zone) return notFound(ctx)
    const parent = zone.parentId ? await AccessZone.find(zone.parentId) : null
    return renderZoneForm(ctx, zone, {
      code: zone.code,
      name: zone.name,
      parent: parent?.publicId ?? '',
      description: zone.description ?? '',
    })
  }

  async storeZone(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    return saveZone(ctx, null)
  }

  async updateZone(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const publicId = await publicIdFrom(ctx.params)
    const zone = publicId ? await AccessZone.findBy('public_id', publicId) : null
    if (!zone) return notFound(ctx)
    return saveZone(ctx, zone)
  }

  async createPoint(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    return renderPointForm(ctx, null, {
      code: '',
      name: '',
      zone: String(ctx.request.qs().zone ?? ''),
      kind: 'door',
      direction: 'in',
      terminal: '',
      enabled: true,
    })
  }

  async editPoint(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const publicId = await publicIdFrom(ctx.params)
    const point = publicId
      ? await AccessPoint.query().where('public_id', publicId).preload('zone').first()
      : null
    if (!point) return notFound(ctx)
    const terminal = point.terminalId
      ? await db.from('terminals').where('id', point.terminalId).select('public_id').first()
      : null
    return renderPointForm(ctx, point, {
      code: point.code,
      name: point.name,
      zone: point.zone.publicId,
      kind: point.kind,
      direction: point.direction,
      terminal: terminal?.public_id ?? '',
      enabled: point.enabled,
    })
  }

  async storePoint(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    return savePoint(ctx, null)
  }

  async updatePoint(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const publicId = await publicIdFrom(ctx.params)
    const point = publicId ? await AccessPoint.findBy('public_id', publicId) : null
    if (!point) return notFound(ctx)
    return savePoint(ctx, point)
  }

  /** The rules snapshot the point's door holds (JSON), as a terminal would receive it. */
  async snapshot(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.view')
    const publicId = await publicIdFrom(ctx.params)
    const point = publicId ? await findPoint(publicId) : null
    if (!point) return notFound(ctx)
    const { snapshot, etag } = await snapshotForPoint(point)
    ctx.response.header('etag', `"${etag}"`)
    ctx.response.header('cache-control', 'no-store')
    return ctx.response.json(snapshot)
  }
}

interface ZoneValues {
  code: string
  name: string
  parent: string
  description: string
}

async function renderZoneForm(
  ctx: HttpContext,
  zone: AccessZone | null,
  values: ZoneValues,
  error: string | null = null
) {
  const t = ctx.i18n.t.bind(ctx.i18n)
  const tree = await zoneTree()
  return ctx.view.render('pages/access/zone_form', {
    zone,
    values,
    error,
    parentOptions: [
      { value: '', label: t('access.zones.no_parent') },
      ...tree
        .filter((entry) => entry.zone.id !== zone?.id)
        .map((entry) => ({ value: entry.zone.publicId, label: entry.label })),
    ],
  })
}

async function saveZone(ctx: HttpContext, zone: AccessZone | null) {
  const { request, response, i18n, session } = ctx
  const body = request.only(['code', 'name', 'parent', 'description'])
  const values: ZoneValues = {
    code: String(body.code ?? ''),
    name: String(body.name ?? ''),
    parent: String(body.parent ?? ''),
    description: String(body.description ?? ''),
  }
  const again = (code: string) => {
    response.status(422)
    return renderZoneForm(ctx, zone, values, i18n.t(`access.errors.${code}`))
  }
  const [error, input] = await zoneValidator.tryValidate(withoutBlanks(body))
  if (error) return again('zone_invalid')
  const result = await new SaveZone().handle(
    { zone: zone?.publicId ?? null, ...input, parent: input.parent ?? null },
    actorFrom(ctx)
  )
  if (!result.ok) return again(result.error)
  session.flash('notice', i18n.t('access.zones.saved'))
  return response.redirect('/console/access/zones')
}

interface PointValues {
  code: string
  name: string
  zone: string
  kind: string
  direction: string
  terminal: string
  enabled: boolean
}

async function renderPointForm(
  ctx: HttpContext,
  point: AccessPoint | null,
  values: PointValues,
  error: string | null = null
) {
  const t = ctx.i18n.t.bind(ctx.i18n)
  const tree = await zoneTree()
  return ctx.view.render('pages/access/point_form', {
    point,
    values,
    error,
    zoneOptions: tree.map((entry) => ({ value: entry.zone.publicId, label: entry.label })),
    kindOptions: POINT_KINDS.map((value) => ({ value, label: t(`access.kinds.${value}`) })),
    directionOptions: POINT_DIRECTIONS.map((value) => ({
      value,
      label: t(`access.directions.${value}`),
    })),
    terminalOptions: await terminalOptions(t),
  })
}

async function savePoint(ctx: HttpContext, point: AccessPoint | null) {
  const { request, response, i18n, session } = ctx
  const body = request.only(['code', 'name', 'zone', 'kind', 'direction', 'terminal', 'enabled'])
  const values: PointValues = {
    code: String(body.code ?? ''),
    name: String(body.name ?? ''),
    zone: String(body.zone ?? ''),
    kind: String(body.kind ?? 'door'),
    direction: String(body.direction ?? 'in'),
    terminal: String(body.terminal ?? ''),
    enabled: !!body.enabled,
  }
  const again = (code: string) => {
    response.status(422)
    return renderPointForm(ctx, point, values, i18n.t(`access.errors.${code}`))
  }
  const [error, input] = await pointValidator.tryValidate(withoutBlanks(body))
  if (error) return again('point_invalid')
  const result = await new SavePoint().handle(
    {
      point: point?.publicId ?? null,
      ...input,
      terminal: input.terminal ?? null,
      enabled: input.enabled ?? false,
    },
    actorFrom(ctx)
  )
  if (!result.ok) return again(result.error)
  session.flash('notice', i18n.t('access.points.saved'))
  return response.redirect('/console/access/zones')
}
