import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { ModelQueryBuilderContract } from '@adonisjs/lucid/types/model'
import AuditEntry from '#core/models/audit_entry'
import type { ActorType, Outcome } from '#core/services/audit'

export const OUTCOMES = ['success', 'failure', 'denied'] as const satisfies readonly Outcome[]
export const ACTOR_TYPES = [
  'user',
  'person',
  'system',
  'api',
  'terminal',
  'anonymous',
] as const satisfies readonly ActorType[]

/** What an auditor can narrow the log down to. Dates are calendar days in the school's zone. */
export interface AuditFilters {
  /** Part of the action, the actor's name or the subject's id. */
  q?: string
  /** A module ("auth") or one action ("auth.login"). */
  action?: string
  outcome?: Outcome
  actor?: ActorType
  /** yyyy-MM-dd, inclusive. */
  from?: string
  /** yyyy-MM-dd, inclusive. */
  to?: string
}

type AuditQuery = ModelQueryBuilderContract<typeof AuditEntry>

/** Escapes LIKE wildcards so that a search for "login_failed" means exactly that. */
function likePattern(value: string, { prefix = false } = {}) {
  const escaped = value.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)
  return prefix ? `${escaped}%` : `%${escaped}%`
}

/** Start of a school-calendar day, in UTC, formatted the way the database stores times. */
function dayStart(day: string, zone: string, format: string): string | null {
  const start = DateTime.fromISO(day, { zone }).startOf('day')
  return start.isValid ? start.toUTC().toFormat(format) : null
}

/** Narrows an audit_entries query to the filters. Every value is bound, never spliced. */
export function applyAuditFilters(query: AuditQuery, filters: AuditFilters, zone: string) {
  const format = query.client.dialect.dateTimeFormat
  if (filters.q) {
    const pattern = likePattern(filters.q)
    query.where((inner) => {
      inner
        .whereRaw(`lower(action) like ? escape '\\'`, [pattern])
        .orWhereRaw(`lower(actor_name) like ? escape '\\'`, [pattern])
        .orWhereRaw(`lower(subject_id) like ? escape '\\'`, [pattern])
    })
  }
  if (filters.action) {
    const action = filters.action
    query.where((inner) => {
      inner
        .where('action', action)
        .orWhereRaw(`action like ? escape '\\'`, [likePattern(`${action}.`, { prefix: true })])
    })
  }
  if (filters.outcome) query.where('outcome', filters.outcome)
  if (filters.actor) query.where('actor_type', filters.actor)
  if (filters.from) {
    const start = dayStart(filters.from, zone, format)
    if (start) query.where('occurred_at', '>=', start)
  }
  if (filters.to) {
    const end = dayStart(
      DateTime.fromISO(filters.to).plus({ days: 1 }).toISODate() ?? '',
      zone,
      format
    )
    if (end) query.where('occurred_at', '<', end)
  }
  return query
}

/** One page of matching entries, newest first. */
export async function searchAuditEntries(
  filters: AuditFilters,
  zone: string,
  page: number,
  perPage = 50
) {
  const query = applyAuditFilters(AuditEntry.query(), filters, zone)
  return query.orderBy('seq', 'desc').paginate(page, perPage)
}

/**
 * Matching entries per school-calendar day for the last `days` days, oldest
 * first. One query: each day is a CASE over the indexed time range.
 */
export async function auditEntriesPerDay(
  filters: AuditFilters,
  zone: string,
  days = 14,
  now = DateTime.utc()
): Promise<{ day: string; count: number }[]> {
  const today = now.setZone(zone).startOf('day')
  const starts = Array.from({ length: days + 1 }, (_, index) =>
    today.minus({ days: days - 1 - index })
  )
  const query = AuditEntry.query()
  const format = query.client.dialect.dateTimeFormat
  const bounds = starts.map((start) => start.toUTC().toFormat(format))
  // The chart has its own window; the date filters apply to the list only.
  applyAuditFilters(query, { ...filters, from: undefined, to: undefined }, zone)
    .where('occurred_at', '>=', bounds[0])
    .where('occurred_at', '<', bounds[days])
  for (let index = 0; index < days; index++) {
    query.select(
      db.raw(`sum(case when occurred_at >= ? and occurred_at < ? then 1 else 0 end) as d${index}`, [
        bounds[index],
        bounds[index + 1],
      ])
    )
  }
  const row = (await query.pojo<Record<string, unknown>>().first()) ?? {}
  return starts.slice(0, days).map((start, index) => ({
    day: start.toISODate()!,
    count: Number(row[`d${index}`] ?? 0),
  }))
}

/**
 * The distinct actions in the log, sorted. A loose index scan (one index
 * probe per distinct value) instead of DISTINCT over every row: the log
 * grows to millions of rows but has a few dozen actions.
 */
export async function auditActions(): Promise<string[]> {
  const result = await db.rawQuery(`
    WITH RECURSIVE actions(action) AS (
      SELECT MIN(action) FROM audit_entries
      UNION ALL
      SELECT (SELECT MIN(action) FROM audit_entries WHERE action > actions.action)
      FROM actions WHERE actions.action IS NOT NULL
    )
    SELECT action FROM actions WHERE action IS NOT NULL`)
  const rows: { action: string }[] = Array.isArray(result) ? result : result.rows
  return rows.map((row) => row.action)
}

/** An entry and the sequence numbers of its neighbours, for paging through the log. */
export async function findAuditEntry(seq: number) {
  const entry = await AuditEntry.findBy('seq', seq)
  if (!entry) return null
  const [previous, next] = await Promise.all([
    db.from('audit_entries').where('seq', '<', seq).max('seq as seq').first(),
    db.from('audit_entries').where('seq', '>', seq).min('seq as seq').first(),
  ])
  const predecessor = previous?.seq
    ? await AuditEntry.query().where('seq', previous.seq).select('hash').first()
    : null
  return {
    entry,
    previousSeq: previous?.seq ? Number(previous.seq) : null,
    nextSeq: next?.seq ? Number(next.seq) : null,
    /** The hash the entry's prev_hash must equal: the predecessor's, or the genesis hash. */
    predecessorHash: predecessor?.hash ?? null,
  }
}

/**
 * Matching entries up to `upToSeq`, newest first, a batch at a time. Keyset
 * paging keeps memory flat however many entries match (an export of millions
 * of rows holds one batch at a time).
 */
export async function* auditEntryBatches(
  filters: AuditFilters,
  zone: string,
  upToSeq: number,
  batchSize = 1000
): AsyncGenerator<AuditEntry[]> {
  let cursor = upToSeq + 1
  while (true) {
    const batch = await applyAuditFilters(AuditEntry.query(), filters, zone)
      .where('seq', '<', cursor)
      .orderBy('seq', 'desc')
      .limit(batchSize)
    if (batch.length === 0) return
    yield batch
    if (batch.length < batchSize) return
    cursor = Number(batch[batch.length - 1].seq)
  }
}
