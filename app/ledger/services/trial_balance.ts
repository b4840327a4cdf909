import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import {
  ACCOUNT_KINDS,
  KIND_RULES,
  type AccountKind,
  type NormalSide,
} from '#ledger/services/account_kinds'
import { dbTime } from '#ledger/services/accounts'
import { addFen, fenFromDb } from '#ledger/services/money'

/**
 * One kind of account over one day. Opening and closing are signed sums
 * (credits positive), as stored; `shownBalance` turns them to the normal side.
 */
export interface TrialBalanceRow {
  kind: AccountKind
  normalSide: NormalSide
  accounts: number
  opening: number
  /** Sum of the day's debits, as a positive amount. */
  debits: number
  /** Sum of the day's credits. */
  credits: number
  closing: number
}

export interface TrialBalance {
  /** yyyy-MM-dd in the school's time zone. */
  day: string
  zone: string
  from: DateTime
  to: DateTime
  rows: TrialBalanceRow[]
  totals: { opening: number; debits: number; credits: number; closing: number }
  /** Debits equal credits, and opening and closing each sum to zero. */
  balanced: boolean
}

async function rowsOf(client: QueryClientContract, sql: string, bindings: unknown[]) {
  const result = await client.rawQuery(sql, bindings as any[])
  return (Array.isArray(result) ? result : result.rows) as Record<string, unknown>[]
}

/**
 * The trial balance of one day of the school's calendar: per kind of
 * account, the balance at the start of the day, the day's debits and
 * credits, and the balance at its end.
 *
 * Closing balances come from the stored balances minus what was booked after
 * the day, so a recent day costs a few indexed reads however large the book
 * is; `node ace ledger:verify` is what proves the stored balances right. All
 * reads share one snapshot, so a transfer booked meanwhile is counted
 * everywhere or nowhere.
 */
export async function trialBalance(day: string, zone: string): Promise<TrialBalance> {
  const from = DateTime.fromISO(day, { zone }).startOf('day')
  if (!from.isValid) throw new RangeError(`not a day: ${day}`)
  const to = from.plus({ days: 1 })
  const postgres = db.connection().dialect.name === 'postgres'
  const trx = await db.transaction(postgres ? { isolationLevel: 'repeatable read' } : {})
  try {
    const stored = await rowsOf(
      trx,
      'SELECT kind, COUNT(*) AS accounts, COALESCE(SUM(balance), 0) AS balance FROM ledger_accounts GROUP BY kind',
      []
    )
    const later = await rowsOf(
      trx,
      `SELECT a.kind, COALESCE(SUM(p.amount), 0) AS total
       FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
       WHERE p.booked_at >= ? GROUP BY a.kind`,
      [dbTime(trx, to)]
    )
    const moved = await rowsOf(
      trx,
      `SELECT a.kind,
         COALESCE(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END), 0) AS debits,
         COALESCE(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), 0) AS credits
       FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
       WHERE p.booked_at >= ? AND p.booked_at < ? GROUP BY a.kind`,
      [dbTime(trx, from), dbTime(trx, to)]
    )
    const byKind = <T>(
      rows: Record<string, unknown>[],
      pick: (row: Record<string, unknown>) => T
    ) => new Map(rows.map((row) => [String(row.kind), pick(row)]))
    const storedByKind = byKind(stored, (row) => ({
      accounts: Number(row.accounts),
      balance: fenFromDb(row.balance),
    }))
    const laterByKind = byKind(later, (row) => fenFromDb(row.total))
    const movedByKind = byKind(moved, (row) => ({
      debits: fenFromDb(row.debits),
      credits: fenFromDb(row.credits),
    }))

    const rows: TrialBalanceRow[] = []
    const totals = { opening: 0, debits: 0, credits: 0, closing: 0 }
    for (const kind of ACCOUNT_KINDS) {
      const current = storedByKind.get(kind) ?? { accounts: 0, balance: 0 }
      const movement = movedByKind.get(kind) ?? { debits: 0, credits: 0 }
      const closing = addFen(current.balance, -(laterByKind.get(kind) ?? 0))
      const opening = addFen(closing, addFen(movement.debits, -movement.credits))
      rows.push({
        kind,
        normalSide: KIND_RULES[kind].normalSide,
        accounts: current.accounts,
        opening,
        debits: movement.debits,
        credits: movement.credits,
        closing,
      })
      totals.opening = addFen(totals.opening, opening)
      totals.debits = addFen(totals.debits, movement.debits)
      totals.credits = addFen(totals.credits, movement.credits)
      totals.closing = addFen(totals.closing, closing)
    }
    return {
      day: from.toISODate()!,
      zone,
      from,
      to,
      rows,
      totals,
      balanced: totals.debits === totals.credits && totals.opening === 0 && totals.closing === 0,
    }
  } finally {
    await trx.rollback()
  }
}
