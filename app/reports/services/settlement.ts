/**
 * The arithmetic of settlement (docs/reports.md): what a merchant took in a
 * window of time, read from the merchant account's postings, and how the
 * net is divided into the school's commission and the parties' split.
 */
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { dbTime } from '#ledger/services/accounts'
import { addFen, fenFromDb } from '#ledger/services/money'
import { FULL_SHARE, splitAmount, type SplitParty } from '#merchants/services/split_rules'
import type { DayWindow } from '#reports/services/periods'

/** The transfer kind of a recorded payout. */
export const PAYOUT_KIND = 'payout'

/** Takings of one merchant (and one shop, when known) over a window. */
export interface Takings {
  merchantId: number
  /** The shop of the payment a posting belongs to; null when no payment row names one. */
  shopId: number | null
  paymentsCount: number
  paymentsAmount: number
  /** Refunds, reversals and any other debit or credit that is not a payment or a payout. */
  refundsCount: number
  /** As a positive amount: what left the merchant's account. */
  refundsAmount: number
  net: number
}

async function rowsOf(client: QueryClientContract, sql: string, bindings: unknown[]) {
  const result = await client.rawQuery(sql, bindings as any[])
  return (Array.isArray(result) ? result : result.rows) as Record<string, unknown>[]
}

/**
 * Every merchant's takings in the window, per shop: the postings on
 * merchant accounts booked in it, payouts (and reversals of payouts) left
 * out. A payment's shop comes from its merchant_payments row; a refund's or
 * reversal's from the payment it refers to or reverses.
 */
export async function takingsIn(
  client: QueryClientContract,
  window: { from: DayWindow['from']; to: DayWindow['to'] },
  merchantId?: number
): Promise<Takings[]> {
  const bindings: unknown[] = [
    dbTime(client, window.from),
    dbTime(client, window.to),
    PAYOUT_KIND,
    PAYOUT_KIND,
  ]
  let merchantFilter = ''
  if (merchantId !== undefined) {
    merchantFilter = 'AND a.merchant_id = ?'
    bindings.push(merchantId)
  }
  const rows = await rowsOf(
    client,
    `SELECT a.merchant_id AS merchant_id,
       COALESCE(mp.shop_id, mr.shop_id, mv.shop_id) AS shop_id,
       CASE WHEN t.kind = 'payment' THEN 1 ELSE 0 END AS is_payment,
       COUNT(*) AS postings,
       COALESCE(SUM(p.amount), 0) AS total
     FROM ledger_postings p
     JOIN ledger_accounts a ON a.id = p.account_id
     JOIN ledger_transfers t ON t.id = p.transfer_id
     LEFT JOIN ledger_transfers rt ON rt.id = t.reverses_transfer_id
     LEFT JOIN merchant_payments mp ON mp.transfer_id = t.id
     LEFT JOIN merchant_payments mr ON mr.transfer_id = t.refers_to_transfer_id
     LEFT JOIN merchant_payments mv ON mv.transfer_id = t.reverses_transfer_id
     WHERE a.kind = 'merchant' AND p.booked_at >= ? AND p.booked_at < ?
       AND t.kind <> ?
       AND (rt.kind IS NULL OR rt.kind <> ?)
       ${merchantFilter}
     GROUP BY a.merchant_id, COALESCE(mp.shop_id, mr.shop_id, mv.shop_id),
       CASE WHEN t.kind = 'payment' THEN 1 ELSE 0 END`,
    bindings
  )
  const byKey = new Map<string, Takings>()
  for (const row of rows) {
    const merchant = Number(row.merchant_id)
    const shop = row.shop_id === null || row.shop_id === undefined ? null : Number(row.shop_id)
    const key = `${merchant}:${shop}`
    let entry = byKey.get(key)
    if (!entry) {
      entry = {
        merchantId: merchant,
        shopId: shop,
        paymentsCount: 0,
        paymentsAmount: 0,
        refundsCount: 0,
        refundsAmount: 0,
        net: 0,
      }
      byKey.set(key, entry)
    }
    const total = fenFromDb(row.total)
    const count = Number(row.postings)
    if (Number(row.is_payment) === 1) {
      entry.paymentsCount += count
      entry.paymentsAmount = addFen(entry.paymentsAmount, total)
    } else {
      entry.refundsCount += count
      entry.refundsAmount = addFen(entry.refundsAmount, -total)
    }
    entry.net = addFen(entry.net, total)
  }
  return [...byKey.values()]
}

/** Adds up takings (of several shops, or several days). */
export function sumTakings(merchantId: number, parts: Takings[]): Takings {
  const sum: Takings = {
    merchantId,
    shopId: null,
    paymentsCount: 0,
    paymentsAmount: 0,
    refundsCount: 0,
    refundsAmount: 0,
    net: 0,
  }
  for (const part of parts) {
    sum.paymentsCount += part.paymentsCount
    sum.paymentsAmount = addFen(sum.paymentsAmount, part.paymentsAmount)
    sum.refundsCount += part.refundsCount
    sum.refundsAmount = addFen(sum.refundsAmount, part.refundsAmount)
    sum.net = addFen(sum.net, part.net)
  }
  return sum
}

export interface SplitLine {
  party: string
  basisPoints: number
  amount: number
}

export interface Division {
  commissionBp: number
  /** The school's commission: floor(net × commission_bp / 10000) on a positive net, else 0. */
  commission: number
  /** net − commission: what is paid out to the merchant's parties. */
  payable: number
  /** `payable` shared by the split rules; the amounts sum to `payable` exactly. */
  split: SplitLine[]
}

/**
 * Divides a day's net. Commission is rounded down (the school never takes
 * more than its rate). The split gives each party the floor of its share
 * of the payable amount and the fen left over by rounding to the first
 * party (merchants' splitAmount), so commission + Σ split = net exactly.
 */
export function divideNet(net: number, commissionBp: number, rules: SplitParty[]): Division {
  const bp = Number.isSafeInteger(commissionBp)
    ? Math.min(Math.max(commissionBp, 0), FULL_SHARE)
    : 0
  // In bigint, so that net × bp cannot leave the exact range; net > 0, so division floors.
  const commission = net > 0 ? Number((BigInt(net) * BigInt(bp)) / BigInt(FULL_SHARE)) : 0
  const payable = addFen(net, -commission)
  const shares = splitAmount(payable, rules)
  const split = shares.map((share, index) => ({
    party: share.party,
    basisPoints: rules[index]?.basisPoints ?? 0,
    amount: share.amount,
  }))
  return { commissionBp: bp, commission, payable, split }
}
