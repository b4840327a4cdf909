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
