import vine from '@vinejs/vine'
import db from '@adonisjs/lucid/services/db'
import type Terminal from '#terminals/models/terminal'
import type { GatewayContext } from '#terminals/gateway/context'
import { DecideAccess } from '#access/actions/decide_access'
import { IngestAccessEvents, MAX_UPLOAD_RECORDS } from '#access/actions/ingest_access_events'
import { findPoint, snapshotForPoint } from '#access/services/access_snapshot'

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/i

const checkValidator = vine.create({
  point: vine.string().regex(PUBLIC_ID).optional(),
  code: vine.string().maxLength(1024).optional(),
  uid: vine.string().maxLength(64).optional(),
  terminal_time: vine.number().optional(),
})

const rulesValidator = vine.create({
  point: vine.string().regex(PUBLIC_ID).optional(),
  etag: vine.string().maxLength(64).optional(),
})

const eventsValidator = vine.create({
  records: vine
    .array(
      vine.object({
        seq: vine.number().withoutDecimals().min(1),
        point: vine.string().maxLength(26),
        at: vine.number().withoutDecimals().min(1),
        credential: vine.enum(['code', 'card'] as const),
        card_no: vine.string().maxLength(20).nullable().optional(),
        uid: vine.string().maxLength(64).nullable().optional(),
        allowed: vine.boolean(),
        reason: vine.string().maxLength(48),
        rules_version: vine.number().withoutDecimals().min(0).nullable().optional(),
      })
    )
    .maxLength(MAX_UPLOAD_RECORDS),
})

/** The public ids of the access points the terminal controls. */
async function pointsOf(terminal: Terminal): Promise<string[]> {
  const rows = await db
    .from('access_points')
    .where('terminal_id', terminal.id)
    .orderBy('code')
    .select('public_id')
  return rows.map((row) => row.public_id as string)
}

/** The point a request names, or the terminal's only point. */
async function pointFor(ctx: GatewayContext, named: string | undefined): Promise<string> {
  const own = await pointsOf(ctx.terminal)
  if (named) {
    if (!own.includes(named.toUpperCase())) ctx.refuse('point_not_linked', 404)
    return named.toUpperCase()
  }
  if (own.length === 1) return own[0]
  return ctx.refuse(own.length === 0 ? 'no_access_point' : 'point_required', 422, { points: own })
}

/**
 * POST /t/v1/access: open or not, decided online. Body: { point?, code | uid }.
 * Answer: { allowed, reason, card_no, person, rules_version, event }.
 */
export async function checkAccess(ctx: GatewayContext) {
  const input = await ctx.validate(checkValidator)
  const point = await pointFor(ctx, input.point)
  const result = await new DecideAccess().handle({
    point,
    code: input.code ?? null,
    uid: input.uid ?? null,
    at: Math.floor(ctx.now.getTime() / 1000),
    terminalId: ctx.terminal.id,
    verifier: ctx.terminal.publicId,
  })
  if (!result.ok) return ctx.refuse(result.error, 422)
  const { decision, eventId, rulesVersion } = result.value
  return ctx.reply({
    allowed: decision.allowed,
    reason: decision.reason,
    card_no: decision.cardNo,
    person: decision.person,
    rules_version: rulesVersion,
    event: eventId,
  })
}

/**
 * GET /t/v1/access/rules?point=…&etag=…: the point's rules snapshot
 * (docs/access-control.md §3), or { changed: false } when the terminal's
 * ETag is still current.
 */
export async function accessRules(ctx: GatewayContext) {
  const input = await ctx.validate(rulesValidator)
  const publicId = await pointFor(ctx, input.point)
  const point = await findPoint(publicId)
  if (!point) return ctx.refuse('point_not_linked', 404)
  const { snapshot, etag } = await snapshotForPoint(point, Math.floor(ctx.now.getTime() / 1000))
  if (input.etag === etag) {
    return ctx.reply({ point: publicId, version: snapshot.version, etag, changed: false })
  }
  return ctx.reply({ point: publicId, version: snapshot.version, etag, changed: true, snapshot })
}

/**
 * POST /t/v1/access/events: decisions made offline. Each record is named by
 * (terminal, seq); an upload sent again records nothing. Answer:
 * { results: [{ seq, status: recorded | duplicate | rejected, error? }] }.
 */
export async function uploadAccessEvents(ctx: GatewayContext) {
  const input = await ctx.validate(eventsValidator)
  const results = await new IngestAccessEvents().handle({
    terminalId: ctx.terminal.id,
    records: input.records.map((record) => ({
      seq: record.seq,
      point: record.point,
      at: record.at,
      credential: record.credential,
      cardNo: record.card_no ?? null,
      uid: record.uid ?? null,
      allowed: record.allowed,
      reason: record.reason,
      rulesVersion: record.rules_version ?? null,
    })),
  })
  return ctx.reply({ results })
}

/**
 * The access_rules section of GET /t/v1/sync: for each of the terminal's
 * points its version and ETag, and the snapshot itself unless the terminal
 * says it holds that version (access_rules_since).
 */
export async function accessRulesSection(terminal: Terminal, query: URLSearchParams) {
  const since = Number(query.get('access_rules_since') ?? Number.NaN)
  const out = []
  for (const publicId of await pointsOf(terminal)) {
    const point = await findPoint(publicId)
    if (!point) continue
    const { snapshot, etag } = await snapshotForPoint(point)
    out.push(
      snapshot.version === since
        ? { point: publicId, version: snapshot.version, etag }
        : { point: publicId, version: snapshot.version, etag, snapshot }
    )
  }
  return { points: out }
}
