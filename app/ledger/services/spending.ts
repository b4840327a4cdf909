/**
 * Which of a holder's wallets pay for a purchase, and how much from each.
 *
 * Every way of paying (a campus code at a till, a merchant code in the
 * portal, an offline record uploaded by a terminal) does, in one transaction:
 *
 *   const plan = await planSpending(trx, context)        // read, nothing written
 *   const booked = await new PostTransfer().handle({ …plan.legs as debits, merchant credit… }, trx)
 *   if (booked.ok) await recordSpending(trx, plan, booked.value)   // the lots the legs used
 *
 * The wallets pay in the school's spending order (default subsidy → voucher
 * → cash; `walletSettings`). Subsidy money is held in lots, one per batch
 * and person, each with its batch's expiry and restrictions (merchant
 * categories and merchants, identity types, time of day); the plan takes
 * from the lots that may pay here and now, earliest expiry first. A meal
 * voucher pays for one meal, up to its meal value, in a meal window, once
 * per window. See docs/adr/0011-wallet-lots-and-spending-order.md.
 *
 * The plan is made inside the booking transaction: on PostgreSQL the wallets
 * it reads are locked (SELECT … FOR UPDATE) so that the balances and lots it
 * saw hold until the transfer commits; on SQLite the transaction already
 * holds the database.
 */
import type { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import LedgerAccount from '#ledger/models/ledger_account'
import { shownBalance, WALLET_KINDS, type WalletKind } from '#ledger/services/account_kinds'
import { walletFor } from '#ledger/services/accounts'
import {
  lotsTotal,
  mealWindowAt,
  openLots,
  returnToLots,
  schoolClock,
  settleLots,
  takeFromLots,
  type LotRow,
  type LotTake,
} from '#ledger/services/wallet_lots'
import { walletSettings, type MealWindow } from '#ledger/services/wallet_settings'

export interface SpendContext {
  personId: number
  /** Fen, a positive safe integer. */
  amount: number
  /** The merchant's category (canteen, supermarket, bus…), for subsidy restrictions. */
  merchantCategory: string | null
  merchantId: number | null
  shopId: number | null
  /** When the purchase happened (an offline record's own time, or now). */
  at: DateTime
}

export interface SpendLeg {
  wallet: WalletKind
  account: LedgerAccount
  /** Fen taken from this wallet, positive. */
  amount: number
  /** Subsidy and voucher legs: the lots the amount comes from (recordSpending writes them). */
  lots?: LotTake[]
}

export interface SpendPlan {
  legs: SpendLeg[]
  /** Sum of the legs. */
  covered: number
  /** What the wallets could not cover (0 when the purchase is paid in full). */
  shortfall: number
  /** The person the plan is for (recordSpending needs it). */
  personId?: number
}

/** The person's wallets, read (and locked on PostgreSQL) in the transaction; cash is created. */
async function lockedWallets(
  trx: TransactionClientContract,
  personId: number
): Promise<Map<WalletKind, LedgerAccount>> {
  const kinds = Object.values(WALLET_KINDS) as string[]
  const query = LedgerAccount.query({ client: trx })
    .where('person_id', personId)
    .whereIn('kind', kinds)
    .orderBy('id')
  if (trx.dialect.name === 'postgres') query.forUpdate()
  let accounts = await query
  if (!accounts.some((account) => account.kind === 'wallet_cash')) {
    await walletFor(personId, 'cash', trx)
    const again = LedgerAccount.query({ client: trx })
      .where('person_id', personId)
      .whereIn('kind', kinds)
      .orderBy('id')
    if (trx.dialect.name === 'postgres') again.forUpdate()
    accounts = await again
  }
  const byWallet = new Map<WalletKind, LedgerAccount>()
  for (const account of accounts) {
    const wallet = (Object.keys(WALLET_KINDS) as WalletKind[]).find(
      (name) => WALLET_KINDS[name] === account.kind
    )
    if (wallet) byWallet.set(wallet, account)
  }
  return byWallet
}

function available(account: LedgerAccount | undefined): number {
  if (!account || account.frozen) return 0
  return Math.max(0, shownBalance(account.normalSide, account.balance))
}

/** Whether a lot's batch lets it pay for this purchase. */
export function lotMayPay(
  lot: LotRow,
  context: SpendContext,
  minutes: number,
  identityType: string | null
): boolean {
  if (lot.merchantCategories.length > 0) {
    if (!context.merchantCategory || !lot.merchantCategories.includes(context.merchantCategory))
      return false
  }
  if (lot.merchantIds.length > 0) {
    if (context.merchantId === null || !lot.merchantIds.includes(context.merchantId)) return false
  }
  if (lot.identityTypes.length > 0) {
    if (!identityType || !lot.identityTypes.includes(identityType)) return false
  }
  if (lot.timeFrom !== null && minutes < lot.timeFrom) return false
  if (lot.timeTo !== null && minutes >= lot.timeTo) return false
  return true
}

async function identityTypeOf(trx: TransactionClientContract, personId: number) {
  const row = await trx.from('people').where('id', personId).select('identity_type').first()
  return (row?.identity_type as string | undefined) ?? null
}

/** Lots of a wallet, after making sure they add up to its balance. */
async function lotsOf(
  trx: TransactionClientContract,
  account: LedgerAccount,
  kind: 'subsidy' | 'voucher',
  at: DateTime
) {
  const balance = shownBalance(account.normalSide, account.balance)
  if ((await lotsTotal(trx, account.id)) !== balance)
    await settleLots(trx, { id: account.id, personId: account.personId!, balance }, kind)
  return openLots(trx, account.id, at)
}

async function planSubsidy(
  trx: TransactionClientContract,
  account: LedgerAccount,
  context: SpendContext,
  wanted: number,
  identity: () => Promise<string | null>
): Promise<SpendLeg | null> {
  const cap = Math.min(available(account), wanted)
  if (cap <= 0) return null
  const { minutes } = schoolClock(context.at)
  const lots = await lotsOf(trx, account, 'subsidy', context.at)
  const needsIdentity = lots.some((lot) => lot.identityTypes.length > 0)
  const identityType = needsIdentity ? await identity() : null
  const takes: LotTake[] = []
  let left = cap
  for (const lot of lots) {
    if (left <= 0) break
    if (!lotMayPay(lot, context, minutes, identityType)) continue
    const amount = Math.min(left, lot.remaining)
    takes.push({ lotId: lot.id, amount, meals: 0, mealSlot: null })
    left -= amount
  }
  const amount = cap - left
  return amount > 0 ? { wallet: 'subsidy', account, amount, lots: takes } : null
}

async function planVoucher(
  trx: TransactionClientContract,
  account: LedgerAccount,
  context: SpendContext,
  wanted: number,
  windows: MealWindow[],
  identity: () => Promise<string | null>
): Promise<SpendLeg | null> {
  const cap = Math.min(available(account), wanted)
  if (cap <= 0) return null
  const { minutes, date } = schoolClock(context.at)
  const window = mealWindowAt(windows, minutes)
  if (!window) return null
  const slot = `${date}:${window.meal}`
  const used = await trx
    .from('wallet_lot_uses')
    .where('person_id', context.personId)
    .where('meal_slot', slot)
    .sum('meals as meals')
    .first()
  if (Number(used?.meals ?? 0) > 0) return null
  const lots = await lotsOf(trx, account, 'voucher', context.at)
  const needsIdentity = lots.some((lot) => lot.identityTypes.length > 0)
  const identityType = needsIdentity ? await identity() : null
  for (const lot of lots) {
    if (lot.batchId === null || (lot.mealsLeft ?? 0) <= 0) continue
    if (lot.mealWindows.length > 0 && !lot.mealWindows.includes(window.meal)) continue
    if (!lotMayPay(lot, context, minutes, identityType)) continue
    const amount = Math.min(cap, lot.mealValue ?? lot.remaining, lot.remaining)
    if (amount <= 0) continue
    return {
      wallet: 'voucher',
      account,
      amount,
      lots: [{ lotId: lot.id, amount, meals: 1, mealSlot: slot }],
    }
  }
  return null
}

/**
 * The legs that pay for a purchase, in the school's spending order. Reads
 * only (apart from repairing lots that no longer add up to their wallet);
 * the caller books the legs and then calls `recordSpending`.
 */
export async function planSpending(
  trx: TransactionClientContract,
  context: SpendContext
): Promise<SpendPlan> {
  const settings = await walletSettings(trx)
  const wallets = await lockedWallets(trx, context.personId)
  let identityType: Promise<string | null> | null = null
  const identity = () => (identityType ??= identityTypeOf(trx, context.personId))

  const legs: SpendLeg[] = []
  let left = context.amount
  for (const wallet of settings.spendingOrder) {
    if (left <= 0) break
    const account = wallets.get(wallet)
    if (!account) continue
    let leg: SpendLeg | null = null
    if (wallet === 'cash') {
      const take = Math.min(available(account), left)
      leg = take > 0 ? { wallet: 'cash', account, amount: take } : null
    } else if (wallet === 'subsidy') {
      leg = await planSubsidy(trx, account, context, left, identity)
    } else {
      leg = await planVoucher(trx, account, context, left, settings.mealWindows, identity)
    }
    if (leg) {
      legs.push(leg)
      left -= leg.amount
    }
  }
  const covered = context.amount - left
  return { legs, covered, shortfall: left, personId: context.personId }
}

/**
 * Records which lots a booked spend used. Call it in the booking
 * transaction after PostTransfer succeeded; a replayed booking (the same
 * request again) changes nothing, as the first booking recorded its lots.
 */
export async function recordSpending(
  trx: TransactionClientContract,
  plan: SpendPlan,
  booked: { id: number; replayed: boolean }
): Promise<void> {
  if (booked.replayed) return
  for (const leg of plan.legs) {
    if (!leg.lots || leg.lots.length === 0) continue
    await takeFromLots(trx, leg.account.personId!, booked.id, leg.lots, 'spend')
  }
}

/**
 * Puts a refund's or reversal's money back into the lots the original
 * spend took it from. Call it in the transaction that booked `refund`
 * (credits on the holder's wallets, referring to or reversing `originalId`);
 * cash legs need nothing. A replayed refund changes nothing.
 */
export async function recordReturn(
  trx: TransactionClientContract,
  refund: { id: number; replayed: boolean; postings: { accountId: number; amount: number }[] },
  originalId: number
): Promise<void> {
  if (refund.replayed) return
  const credited = refund.postings.filter((posting) => posting.amount > 0)
  if (credited.length === 0) return
  const accounts = await trx
    .from('ledger_accounts')
    .whereIn(
      'id',
      credited.map((posting) => posting.accountId)
    )
    .whereIn('kind', ['wallet_subsidy', 'wallet_voucher'])
    .select('id', 'kind', 'person_id')
  for (const account of accounts) {
    const posting = credited.find((entry) => entry.accountId === Number(account.id))!
    await returnToLots(trx, {
      account: { id: Number(account.id), personId: Number(account.person_id) },
      kind: account.kind === 'wallet_voucher' ? 'voucher' : 'subsidy',
      originalTransferId: originalId,
      transferId: refund.id,
      amount: posting.amount,
    })
  }
}
