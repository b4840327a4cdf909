import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import Terminal, { type TerminalKind } from '#terminals/models/terminal'
import { TERMINAL_SETTINGS } from '#terminals/services/terminal_settings'
import { dbDateTime } from '#cards/services/db_time'

export interface TerminalFilters {
  q?: string
  kind?: TerminalKind
  status?: 'pending' | 'active' | 'revoked' | 'online' | 'offline'
}

export const TERMINALS_PER_PAGE = 50

/** online: active and seen within the online window; offline: active and not. */
export function connectionOf(terminal: Terminal, now = DateTime.utc()) {
  if (terminal.status !== 'active') return terminal.status
  const seen = terminal.lastSeenAt
  return seen && now.diff(seen, 'seconds').seconds <= TERMINAL_SETTINGS.onlineWindowSeconds
    ? 'online'
    : 'offline'
}

export async function listTerminals(filters: TerminalFilters, page: number) {
  const query = Terminal.query().orderBy('name').orderBy('id')
  if (filters.q) {
    const like = `%${filters.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    query.where((sub) =>
      sub
        .whereRaw('lower(name) like ? escape ?', [like, '\\'])
        .orWhereRaw('lower(location) like ? escape ?', [like, '\\'])
        .orWhere('public_id', filters.q!.toUpperCase())
    )
  }
  if (filters.kind) query.where('kind', filters.kind)
  const cutoff = dbDateTime(
    DateTime.utc().minus({ seconds: TERMINAL_SETTINGS.onlineWindowSeconds }),
    db.connection()
  )
  if (filters.status === 'online')
    query.where('status', 'active').where('last_seen_at', '>=', cutoff)
  else if (filters.status === 'offline') {
    query
      .where('status', 'active')
      .where((sub) => sub.whereNull('last_seen_at').orWhere('last_seen_at', '<', cutoff))
  } else if (filters.status) query.where('status', filters.status)
  return query.paginate(page, TERMINALS_PER_PAGE)
}

/** Counts for the page's summary: online, offline, pending, revoked. */
export async function terminalCounts() {
  const cutoff = dbDateTime(
    DateTime.utc().minus({ seconds: TERMINAL_SETTINGS.onlineWindowSeconds }),
    db.connection()
  )
  const rows = await db
    .from('terminals')
    .select('status')
    .select(db.raw('sum(case when last_seen_at >= ? then 1 else 0 end) as recent', [cutoff]))
    .count('* as total')
    .groupBy('status')
  const counts = { online: 0, offline: 0, pending: 0, revoked: 0 }
  for (const row of rows) {
    const total = Number(row.total)
    if (row.status === 'active') {
      counts.online = Number(row.recent ?? 0)
      counts.offline = total - counts.online
    } else if (row.status === 'pending') counts.pending = total
    else if (row.status === 'revoked') counts.revoked = total
  }
  return counts
}
