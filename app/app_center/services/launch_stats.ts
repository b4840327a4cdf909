import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

/**
 * Launch counts for the console: totals per app for the list, and launches
 * per school-calendar day for one app's chart.
 */

export interface LaunchCounts {
  total: number
  /** Launches in the last 30 days. */
  recent: number
}

/** Launch counts of every app that has any, by internal app id. Two grouped queries. */
export async function launchCountsByApp(now = DateTime.utc()): Promise<Map<number, LaunchCounts>> {
  const client = db.connection()
  const since = now.minus({ days: 30 }).toUTC().toFormat(client.dialect.dateTimeFormat)
  const totals = await client
    .from('app_launches')
    .select('app_id')
    .count('* as total')
    .groupBy('app_id')
  const recent = await client
    .from('app_launches')
    .where('launched_at', '>=', since)
    .select('app_id')
    .count('* as total')
    .groupBy('app_id')
  const counts = new Map<number, LaunchCounts>()
  for (const row of totals) counts.set(Number(row.app_id), { total: Number(row.total), recent: 0 })
  for (const row of recent) {
    const entry = counts.get(Number(row.app_id))
    if (entry) entry.recent = Number(row.total)
  }
  return counts
}

/**
 * Launches of one app per school-calendar day for the last `days` days,
 * oldest first. One query: each day is a CASE over the indexed time range.
 */
export async function launchesPerDay(
  appId: number,
  zone: string,
  days = 30,
  now = DateTime.utc()
): Promise<{ day: string; count: number }[]> {
  const client = db.connection()
  const format = client.dialect.dateTimeFormat
  const today = now.setZone(zone).startOf('day')
  const starts = Array.from({ length: days + 1 }, (_, index) =>
    today.minus({ days: days - 1 - index })
  )
  const bounds = starts.map((start) => start.toUTC().toFormat(format))
  const query = client
    .from('app_launches')
    .where('app_id', appId)
    .where('launched_at', '>=', bounds[0])
    .where('launched_at', '<', bounds[days])
  for (let index = 0; index < days; index++) {
    query.select(
      db.raw(`sum(case when launched_at >= ? and launched_at < ? then 1 else 0 end) as d${index}`, [
        bounds[index],
        bounds[index + 1],
      ])
    )
  }
  const row: Record<string, unknown> = (await query.first()) ?? {}
  return starts.slice(0, days).map((start, index) => ({
    day: start.toISODate()!,
    count: Number(row[`d${index}`] ?? 0),
  }))
}
