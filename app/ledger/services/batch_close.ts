/**
 * End-of-day batch totals (对账): a terminal reports how many payments it
 * took on a business day and for how much, online and offline; Quad
 * compares them with what the ledger holds for that terminal and day and
 * keeps the comparison (terminal_batch_closes). A day may be closed again
 * after a late upload; the row then holds the latest comparison.
 *
 * Online payments are the terminal's transfers (idempotency key
 * `t:<terminal>:<sequence>`) booked within the day; offline ones are its
 * booked offline records whose terminal time falls within the day. The day
 * is the school's (its time zone).
 */
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { fail, ok, type Result } from '#core/services/result'
import { dbTime } from '#ledger/services/accounts'
import { fenFromDb } from '#ledger/services/money'

export interface Totals {
  count: number
  amount: number
}

export interface BatchCloseInput {
  terminalId: string
  /** YYYY-MM-DD, the school's day. */
  businessDate: string
  reported: { online: Totals; offline: Totals }
}

export interface BatchCloseResult {
  business_date: string
  matched: boolean
  reported: { online: Totals; offline: Totals }
  ledger: { online: Totals; offline: Totals }
  /** Ledger minus reported: zero when both agree. */
  differences: { online: Totals; offline: Totals }
  /** Offline records of the day that Quad refused (they explain a difference). */
  refused_offline: Totals
}

/** The key prefix of a terminal's online payments; `;` follows `:` in ASCII. */
function onlineKeyRange(terminalId: string): [string, string] {
  return [`t:${terminalId}:`, `t:${terminalId};`]
}

export async function ledgerTotalsFor(terminalId: string, day: { start: DateTime; end: DateTime }) {
  const client = db.connection()
  const [from, to] = onlineKeyRange(terminalId)
  const online = await client
    .from('ledger_transfers')
    .where('idempotency_key', '>=', from)
    .where('idempotency_key', '<', to)
    .where('kind', 'payment')
    .where('booked_at', '>=', dbTime(client, day.start))
    .where('booked_at', '<', dbTime(client, day.end))
    .count('* as count')
    .sum('amount as amount')
    .first()
  const offline = await client
    .from('offline_payment_records')
    .where('terminal_id', terminalId)
    .where('recorded_at', '>=', dbTime(client, day.start))
    .where('recorded_at', '<', dbTime(client, day.end))
    .groupBy('status')
    .select('status')
    .count('* as count')
    .sum('amount as amount')
  const totals = (row: any): Totals => ({
    count: Number(row?.count ?? 0),
    amount: row?.amount === null || row?.amount === undefined ? 0 : fenFromDb(row.amount),
  })
  return {
    online: totals(online),
    offline: totals(offline.find((row) => row.status === 'booked')),
    refusedOffline: totals(offline.find((row) => row.status === 'refused')),
  }
}

export async function closeTerminalBatch(
  input: BatchCloseInput
): Promise<Result<BatchCloseResult, 'invalid_business_date'>> {
  const { schoolZone } = await import('#cards/services/school_zone')
  const start = DateTime.fromISO(input.businessDate, { zone: await schoolZone() })
  if (!start.isValid || start > DateTime.utc().plus({ days: 1 }))
    return fail('invalid_business_date')
  const day = { start: start.toUTC(), end: start.plus({ days: 1 }).toUTC() }
  const ledger = await ledgerTotalsFor(input.terminalId, day)
  const difference = (a: Totals, b: Totals): Totals => ({
    count: a.count - b.count,
    amount: a.amount - b.amount,
  })
  const differences = {
    online: difference(ledger.online, input.reported.online),
    offline: difference(ledger.offline, input.reported.offline),
  }
  const matched =
    differences.online.count === 0 &&
    differences.online.amount === 0 &&
    differences.offline.count === 0 &&
    differences.offline.amount === 0
  const client = db.connection()
  await client
    .knexQuery()
    .table('terminal_batch_closes')
    .insert({
      terminal_id: input.terminalId,
      business_date: input.businessDate,
      reported_online_count: input.reported.online.count,
      reported_online_amount: input.reported.online.amount,
      reported_offline_count: input.reported.offline.count,
      reported_offline_amount: input.reported.offline.amount,
      ledger_online_count: ledger.online.count,
      ledger_online_amount: ledger.online.amount,
      ledger_offline_count: ledger.offline.count,
      ledger_offline_amount: ledger.offline.amount,
      matched,
      closed_at: dbTime(client),
    })
    .onConflict(['terminal_id', 'business_date'])
    .merge()
  return ok({
    business_date: input.businessDate,
    matched,
    reported: { online: input.reported.online, offline: input.reported.offline },
    ledger: { online: ledger.online, offline: ledger.offline },
    differences,
    refused_offline: ledger.refusedOffline,
  })
}
