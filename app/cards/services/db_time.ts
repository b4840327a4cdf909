import type { DateTime } from 'luxon'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'

/**
 * A time as Lucid writes a model's DateTime column on this client's
 * database, for raw inserts and comparisons with those columns: text that
 * sorts correctly on SQLite, a timestamp with zone on PostgreSQL.
 */
export function dbDateTime(time: DateTime, client: QueryClientContract): string {
  return time.toUTC().toFormat(client.dialect.dateTimeFormat)
}

/** dbDateTime for a time in milliseconds, the same text without luxon (busy paths). */
export function dbTimeOfMillis(ms: number, dialect: 'sqlite' | 'postgres'): string {
  const iso = new Date(ms).toISOString()
  return dialect === 'postgres'
    ? `${iso.slice(0, 23)}+00:00`
    : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}
