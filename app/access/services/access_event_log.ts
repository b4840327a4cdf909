import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { dbDateTime } from '#cards/services/db_time'

/** The event log's filters, as the console page and the export take them. */
export interface EventFilters {
  /** A person number, a card number, or part of a name. */
  q?: string
  zone?: string
  point?: string
  outcome?: 'allowed' | 'denied'
  reason?: string
  mode?: 'online' | 'offline'
  /** School-time dates, both included. */
  from?: string
  to?: string
}

export const EVENTS_PER_PAGE = 50

/** One row of the event log with its names. */
export interface EventRow {
  id: number
  occurredAt: DateTime
  recordedAt: DateTime
  personName: string | null
  personNo: string | null
  personPublicId: string | null
  cardNo: string | null
  uid: string | null
  pointName: string | null
  pointCode: string | null
  zoneName: string | null
  direction: string | null
  credential: string
  allowed: boolean
  reason: string
  mode: string
  terminalName: string | null
  terminalSeq: number | null
  rulesVersion: number | null
}

function time(value: unknown): DateTime {
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const text = String(value)
  const sql = DateTime.fromSQL(text, { zone: 'utc' })
  return sql.isValid ? sql : DateTime.fromISO(text, { zone: 'utc' })
}

function rowOf(row: any): EventRow {
  return {
    id: Number(row.id),
    occurredAt: time(row.occurred_at),
    recordedAt: time(row.recorded_at),
    personName: row.person_name ?? null,
    personNo: row.person_no ?? null,
    personPublicId: row.person_public_id ?? null,
    cardNo: row.card_no ?? null,
    uid: row.uid ?? null,
    pointName: row.point_name ?? null,
    pointCode: row.point_code ?? null,
    zoneName: row.zone_name ?? null,
    direction: row.direction ?? null,
    credential: row.credential,
    allowed: row.allowed === true || row.allowed === 1,
    reason: row.reason,
    mode: row.mode,
    terminalName: row.terminal_name ?? null,
    terminalSeq: row.terminal_seq === null ? null : Number(row.terminal_seq),
    rulesVersion: row.rules_version === null ? null : Number(row.rules_version),
  }
}

/** The filtered log, newest first. */
function eventsQuery(filters: EventFilters, zone: string) {
  const client = db.connection()
  const query = client
    .from('access_events')
    .leftJoin('people', 'people.id', 'access_events.person_id')
    .leftJoin('access_points', 'access_points.id', 'access_events.point_id')
    .leftJoin('access_zones', 'access_zones.id', 'access_events.zone_id')
    .leftJoin('terminals', 'terminals.id', 'access_events.terminal_id')
  const term = filters.q?.trim()
  if (term) {
    const literal = term.replace(/[\\%_]/g, (character) => `\\${character}`).toLowerCase()
    query.where((match) => {
      match
        .where('people.person_no', term.toUpperCase())
        .orWhere('access_events.card_no', term.replace(/\s+/g, ''))
        .orWhereRaw('lower(people.name) like ? escape ?', [`%${literal}%`, '\\'])
    })
  }
  if (filters.zone) query.where('access_zones.public_id', filters.zone)
  if (filters.point) query.where('access_points.public_id', filters.point)
  if (filters.outcome) query.where('access_events.allowed', filters.outcome === 'allowed')
  if (filters.reason) {
    query.where((reason) => {
      reason
        .where('access_events.reason', filters.reason!)
        .orWhere('access_events.reason', 'like', `${filters.reason}:%`)
    })
  }
  if (filters.mode) query.where('access_events.mode', filters.mode)
  const day = (text: string) => DateTime.fromISO(text, { zone })
  if (filters.from && day(filters.from).isValid) {
    query.where('access_events.occurred_at', '>=', dbDateTime(day(filters.from), client))
  }
  if (filters.to && day(filters.to).isValid) {
    query.where(
      'access_events.occurred_at',
      '<',
      dbDateTime(day(filters.to).plus({ days: 1 }), client)
    )
  }
  return query
    .orderBy('access_events.occurred_at', 'desc')
    .orderBy('access_events.id', 'desc')
    .select(
      'access_events.*',
      'people.name as person_name',
      'people.person_no',
      'people.public_id as person_public_id',
      'access_points.name as point_name',
      'access_points.code as point_code',
      'access_zones.name as zone_name',
      'terminals.name as terminal_name'
    )
}

/** One page of the log. */
export async function searchEvents(
  filters: EventFilters,
  zone: string,
  page = 1,
  perPage = EVENTS_PER_PAGE
) {
  const paginator = await eventsQuery(filters, zone).paginate(page, perPage)
  return {
    rows: paginator.all().map(rowOf),
    total: paginator.total,
    currentPage: paginator.currentPage,
    lastPage: paginator.lastPage,
    perPage: paginator.perPage,
  }
}

/** At most `limit` rows of the log, for an export. */
export async function eventsForExport(filters: EventFilters, zone: string, limit: number) {
  const rows = await eventsQuery(filters, zone).limit(limit)
  return rows.map(rowOf)
}
