/**
 * Channel reconciliation: per day and channel, the top-ups booked through
 * the channel (less their reversals) and the pay-outs made through it
 * (leaving refunds at the counter), set against what the channel's clearing
 * account moved that day. A difference means money moved on the clearing
 * account that no top-up or pay-out explains, and is flagged.
 */
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { dbTime } from '#ledger/services/accounts'
import { fenFromDb } from '#ledger/services/money'
import { paymentChannels, type ChannelCode } from '#ledger/services/payment_channels'
import { SYSTEM_ACCOUNTS } from '#ledger/services/account_kinds'

export interface ReconciliationRow {
  day: string
  channel: ChannelCode
  available: boolean
  topUps: number
  topUpCount: number
  reversed: number
  payouts: number
  /** What the top-ups and pay-outs say the clearing account should have moved (debit side). */
  expected: number
  /** What the clearing account did move (net debit). */
  clearing: number
  difference: number
}

/** Every channel's rows for the days from `from` to `to` (inclusive, school time). */
export async function channelReconciliation(
  from: string,
  to: string,
  zone: string
): Promise<ReconciliationRow[]> {
  const client = db.connection()
  const start = DateTime.fromISO(from, { zone }).startOf('day')
  const end = DateTime.fromISO(to, { zone }).plus({ days: 1 }).startOf('day')
  const rows: ReconciliationRow[] = []
  for (const channel of paymentChannels()) {
    const clearing = channel.clearingAccount
      ? await client
          .from('ledger_accounts')
          .where('code', channel.clearingAccount)
          .where('kind', SYSTEM_ACCOUNTS[channel.clearingAccount])
          .select('id')
          .first()
      : null
    const postings = clearing
      ? await client
          .from('ledger_postings as p')
          .join('ledger_transfers as t', 't.id', 'p.transfer_id')
          .leftJoin('ledger_transfers as o', 'o.id', 't.reverses_transfer_id')
          .where('p.account_id', clearing.id)
          .where('t.booked_at', '>=', dbTime(client, start))
          .where('t.booked_at', '<', dbTime(client, end))
          .select('p.amount', 't.kind', 't.booked_at', 'o.kind as original_kind')
      : []
    const days = new Map<string, ReconciliationRow>()
    for (let day = start; day < end; day = day.plus({ days: 1 })) {
      const key = day.toISODate()!
      days.set(key, {
        day: key,
        channel: channel.code,
        available: channel.available,
        topUps: 0,
        topUpCount: 0,
        reversed: 0,
        payouts: 0,
        expected: 0,
        clearing: 0,
        difference: 0,
      })
    }
    for (const posting of postings) {
      const at =
        posting.booked_at instanceof Date
          ? DateTime.fromJSDate(posting.booked_at)
          : DateTime.fromSQL(String(posting.booked_at), { zone: 'utc' })
      const row = days.get(at.setZone(zone).toISODate()!)
      if (!row) continue
      const amount = fenFromDb(posting.amount)
      // The clearing account is debit-normal: a top-up debits it (negative amount).
      row.clearing += -amount
      if (posting.kind === 'top_up') {
        row.topUps += -amount
        row.topUpCount += 1
      } else if (posting.kind === 'reversal' && posting.original_kind === 'top_up') {
        row.reversed += amount
      } else if (posting.kind === 'leave_refund') {
        row.payouts += amount
      }
    }
    for (const row of days.values()) {
      row.expected = row.topUps - row.reversed - row.payouts
      row.difference = row.clearing - row.expected
      rows.push(row)
    }
  }
  return rows.sort((a, b) => (a.day === b.day ? 0 : a.day < b.day ? -1 : 1))
}
