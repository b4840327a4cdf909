/**
 * Lots: what is left of each subsidy or voucher batch in each person's
 * wallet. The wallet's ledger balance is the truth; the lots split it by
 * batch so that each batch's expiry and restrictions apply to its own money
 * (docs/adr/0011-wallet-lots-and-spending-order.md).
 *
 * Every change to a lot is written in the transaction that books the money
 * and leaves a row in `wallet_lot_uses`: issue (the lot row itself), spend
 * (`recordSpending`, after the caller's PostTransfer), return (`returnToLots`,
 * after a refund or reversal), sweep (expiry). `settleLots` repairs a wallet
 * whose lots no longer add up to its balance (a booking whose lots were not
 * recorded), so that the sum of the lots always equals the balance.
 */
import { DateTime } from 'luxon'
import type { TransactionClientContract, QueryClientContract } from '@adonisjs/lucid/types/database'
import { schoolTimeZone } from '#appliance/services/school_settings'
import { dbTime } from '#ledger/services/accounts'
import { fenFromDb } from '#ledger/services/money'
import type { Meal, MealWindow } from '#ledger/services/wallet_settings'

export type LotKind = 'subsidy' | 'voucher'

/** A lot as spending reads it, with its batch's restrictions. */
export interface LotRow {
  id: number
  batchId: number | null
  kind: LotKind
  remaining: number
  mealsLeft: number | null
  expiresAt: string | null
  mealValue: number | null
  mealWindows: Meal[]
  merchantCategories: string[]
  merchantIds: number[]
  identityTypes: string[]
  timeFrom: number | null
  timeTo: number | null
}

/** What a spend takes from one lot. */
export interface LotTake {
  lotId: number
  amount: number
  /** Vouchers: one meal. */
  meals: number
  mealSlot: string | null
}

function jsonList<T>(text: unknown): T[] {
  if (typeof text !== 'string' || text === '') return []
  try {
    const value = JSON.parse(text)
    return Array.isArray(value) ? value : []
  } catch {
    return []
  }
}

/** Minutes after midnight and the date, in the school's time zone. */
export function schoolClock(at: DateTime): { minutes: number; date: string } {
  const local = at.setZone(schoolTimeZone())
  return { minutes: local.hour * 60 + local.minute, date: local.toISODate()! }
}

/** The meal window a time falls in, if any. */
export function mealWindowAt(windows: MealWindow[], minutes: number): MealWindow | null {
  return windows.find((window) => minutes >= window.from && minutes < window.to) ?? null
}

/** A wallet's lots that still hold money and have not expired at `at`, earliest expiry first. */
export async function openLots(
  client: QueryClientContract,
  accountId: number,
  at: DateTime
): Promise<LotRow[]> {
  const rows = await client
    .from('wallet_lots as lot')
    .leftJoin('wallet_batches as batch', 'batch.id', 'lot.batch_id')
    .where('lot.account_id', accountId)
    .where('lot.remaining', '>', 0)
    .where((query) =>
      query.whereNull('lot.expires_at').orWhere('lot.expires_at', '>', dbTime(client, at))
    )
    .select(
      'lot.id',
      'lot.batch_id',
      'lot.kind',
      'lot.remaining',
      'lot.meals_left',
      'lot.expires_at',
      'batch.meal_value',
      'batch.meal_windows',
      'batch.merchant_categories',
      'batch.merchant_ids',
      'batch.identity_types',
      'batch.time_from',
      'batch.time_to'
    )
  const lots: LotRow[] = rows.map((row) => ({
    id: Number(row.id),
    batchId: row.batch_id === null ? null : Number(row.batch_id),
    kind: row.kind,
    remaining: fenFromDb(row.remaining),
    mealsLeft: row.meals_left === null ? null : Number(row.meals_left),
    expiresAt: row.expires_at === null ? null : new Date(storedTime(row.expires_at)).toISOString(),
    mealValue: row.meal_value === null ? null : fenFromDb(row.meal_value),
    mealWindows: jsonList<Meal>(row.meal_windows),
    merchantCategories: jsonList<string>(row.merchant_categories),
    merchantIds: jsonList<number>(row.merchant_ids),
    identityTypes: jsonList<string>(row.identity_types),
    timeFrom: row.time_from === null ? null : Number(row.time_from),
    timeTo: row.time_to === null ? null : Number(row.time_to),
  }))
  // Earliest expiry first, lots without expiry last, then oldest first.
  return lots.sort((a, b) => {
    if (a.expiresAt !== b.expiresAt) {
      if (a.expiresAt === null) return 1
      if (b.expiresAt === null) return -1
      return a.expiresAt < b.expiresAt ? -1 : 1
    }
    return a.id - b.id
  })
}

/** The sum of a wallet's lots (expired or not). */
export async function lotsTotal(client: QueryClientContract, accountId: number): Promise<number> {
  const row = await client
    .from('wallet_lots')
    .where('account_id', accountId)
    .sum('remaining as total')
    .first()
  return fenFromDb(row?.total ?? 0)
}

/** Records that a transfer took these amounts from these lots (after it is booked). */
export async function takeFromLots(
  trx: TransactionClientContract,
  personId: number,
  transferId: number | null,
  takes: LotTake[],
  kind: 'spend' | 'return' | 'sweep' | 'settle' = 'spend'
) {
  const now = dbTime(trx)
  for (const take of takes) {
    if (take.amount === 0 && take.meals === 0) continue
    await trx
      .from('wallet_lots')
      .where('id', take.lotId)
      .update({
        remaining: trx.raw('remaining - ?', [take.amount]),
        meals_left: trx.raw('CASE WHEN meals_left IS NULL THEN NULL ELSE meals_left - ? END', [
          take.meals,
        ]),
        updated_at: now,
      })
    await trx.insertQuery().table('wallet_lot_uses').insert({
      lot_id: take.lotId,
      person_id: personId,
      transfer_id: transferId,
      kind,
      amount: take.amount,
      meals: take.meals,
      meal_slot: take.mealSlot,
      created_at: now,
    })
  }
}

/** The lot for wallet money that came from no batch (created on first need). */
async function unassignedLot(
  trx: TransactionClientContract,
  account: { id: number; personId: number },
  kind: LotKind
): Promise<number> {
  const existing = await trx
    .from('wallet_lots')
    .where('account_id', account.id)
    .whereNull('batch_id')
    .select('id')
    .first()
  if (existing) return Number(existing.id)
  const now = dbTime(trx)
  const [inserted] = await trx
    .insertQuery()
    .table('wallet_lots')
    .insert({
      batch_id: null,
      person_id: account.personId,
      account_id: account.id,
      kind,
      issued: 0,
      remaining: 0,
      meals_left: null,
      expires_at: null,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
  return Number(typeof inserted === 'object' ? inserted.id : inserted)
}

/**
 * Puts `amount` back into the lots a transfer took it from (latest expiry
 * first, never more than was taken and not yet returned); what cannot be
 * matched goes to the wallet's unassigned lot. A lot that has expired
 * meanwhile receives it too, and the next sweep takes it back to funding.
 */
export async function returnToLots(
  trx: TransactionClientContract,
  input: {
    account: { id: number; personId: number }
    kind: LotKind
    /** The transfer whose takes are returned. */
    originalTransferId: number
    /** The refund or reversal that put the money back. */
    transferId: number
    amount: number
  }
) {
  const uses = await trx
    .from('wallet_lot_uses as use')
    .join('wallet_lots as lot', 'lot.id', 'use.lot_id')
    .where('lot.account_id', input.account.id)
    .where('use.transfer_id', input.originalTransferId)
    .select('use.lot_id', 'use.amount', 'use.meals', 'use.meal_slot', 'lot.expires_at')
  const returned = await trx
    .from('wallet_lot_uses as use')
    .join('wallet_lots as lot', 'lot.id', 'use.lot_id')
    .where('lot.account_id', input.account.id)
    .where('use.kind', 'return')
    .whereIn(
      'use.transfer_id',
      trx
        .from('ledger_transfers')
        .where('refers_to_transfer_id', input.originalTransferId)
        .orWhere('reverses_transfer_id', input.originalTransferId)
        .select('id')
    )
    .select('use.lot_id', 'use.amount', 'use.meals')
  const open = new Map<
    number,
    { amount: number; meals: number; slot: string | null; expires: string }
  >()
  for (const use of uses) {
    const lotId = Number(use.lot_id)
    const entry = open.get(lotId) ?? {
      amount: 0,
      meals: 0,
      slot: use.meal_slot,
      expires: use.expires_at ? new Date(storedTime(use.expires_at)).toISOString() : '9999',
    }
    entry.amount += fenFromDb(use.amount)
    entry.meals += Number(use.meals)
    open.set(lotId, entry)
  }
  for (const use of returned) {
    const entry = open.get(Number(use.lot_id))
    if (!entry) continue
    entry.amount += fenFromDb(use.amount)
    entry.meals += Number(use.meals)
  }
  const lots = [...open.entries()]
    .filter(([, entry]) => entry.amount > 0)
    .sort((a, b) => (a[1].expires < b[1].expires ? 1 : -1))
  let left = input.amount
  const takes: LotTake[] = []
  for (const [lotId, entry] of lots) {
    if (left <= 0) break
    const amount = Math.min(left, entry.amount)
    // A refunded meal gives the meal back (and frees its window) only when the whole meal returns.
    const meals = amount === entry.amount ? entry.meals : 0
    takes.push({ lotId, amount: -amount, meals: -meals, mealSlot: entry.slot })
    left -= amount
  }
  if (left > 0) {
    const lotId = await unassignedLot(trx, input.account, input.kind)
    takes.push({ lotId, amount: -left, meals: 0, mealSlot: null })
  }
  // Marked as returns, so that a second refund of the same transfer sees them.
  await takeFromLots(trx, input.account.personId, input.transferId, takes, 'return')
}

/**
 * Makes a wallet's lots add up to its balance again: an excess in the lots
 * (money spent or reversed without its lots being told) is taken from the
 * earliest-expiring lots; a shortfall (money that came in without a lot) is
 * added to the unassigned lot. Nothing to do in the usual case.
 */
export async function settleLots(
  trx: TransactionClientContract,
  account: { id: number; personId: number; balance: number },
  kind: LotKind
): Promise<boolean> {
  const total = await lotsTotal(trx, account.id)
  const difference = total - account.balance
  if (difference === 0) return false
  if (difference < 0) {
    const lotId = await unassignedLot(trx, account, kind)
    await takeFromLots(
      trx,
      account.personId,
      null,
      [{ lotId, amount: difference, meals: 0, mealSlot: null }],
      'settle'
    )
    return true
  }
  // Expired lots first (their money should have left already), then by expiry.
  const rows = await trx
    .from('wallet_lots')
    .where('account_id', account.id)
    .where('remaining', '>', 0)
    .select('id', 'remaining', 'expires_at')
  const ordered = rows.sort((a, b) => {
    const ka = a.expires_at === null ? Infinity : storedTime(a.expires_at)
    const kb = b.expires_at === null ? Infinity : storedTime(b.expires_at)
    return ka === kb ? Number(a.id) - Number(b.id) : ka < kb ? -1 : 1
  })
  let left = difference
  const takes: LotTake[] = []
  for (const row of ordered) {
    if (left <= 0) break
    const amount = Math.min(left, fenFromDb(row.remaining))
    takes.push({ lotId: Number(row.id), amount, meals: 0, mealSlot: null })
    left -= amount
  }
  await takeFromLots(trx, account.personId, null, takes, 'settle')
  return true
}

/** Milliseconds since the epoch of a stored time (a Date on PostgreSQL, text on SQLite). */
export function storedTime(value: unknown): number {
  if (value instanceof Date) return value.getTime()
  return DateTime.fromSQL(String(value), { zone: 'utc' }).toMillis()
}
