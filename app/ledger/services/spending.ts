/**
 * Which of a holder's wallets pay for a purchase, and how much from each.
 *
 * Every way of paying (a campus code at a till, a merchant code in the
 * portal, an offline record uploaded by a terminal) asks `planSpending` for
 * the legs and books them in one transfer with the merchant's credit. The
 * plan is made inside the booking transaction: on PostgreSQL the wallets it
 * reads are locked (SELECT … FOR UPDATE) so that the balances it saw hold
 * until the transfer commits; on SQLite the transaction already holds the
 * database.
 */
import type { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type LedgerAccount from '#ledger/models/ledger_account'
import { shownBalance, type WalletKind } from '#ledger/services/account_kinds'
import { walletFor } from '#ledger/services/accounts'

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
}

export interface SpendPlan {
  legs: SpendLeg[]
  /** Sum of the legs. */
  covered: number
  /** What the wallets could not cover (0 when the purchase is paid in full). */
  shortfall: number
}

/** Reads a wallet inside the transaction, locking its row on PostgreSQL. */
async function lockedWallet(
  trx: TransactionClientContract,
  personId: number,
  kind: WalletKind
): Promise<LedgerAccount> {
  const wallet = await walletFor(personId, kind, trx)
  if (trx.dialect.name !== 'postgres') return wallet
  const row = await trx.from('ledger_accounts').where('id', wallet.id).forUpdate().first()
  wallet.balance = Number(row.balance)
  return wallet
}

/**
 * The legs that pay for a purchase. Today only the cash wallet pays; subsidy
 * and meal-voucher wallets join here, in the school's spending order.
 */
export async function planSpending(
  trx: TransactionClientContract,
  context: SpendContext
): Promise<SpendPlan> {
  const cash = await lockedWallet(trx, context.personId, 'cash')
  const available = cash.frozen ? 0 : Math.max(0, shownBalance(cash.normalSide, cash.balance))
  const take = Math.min(available, context.amount)
  const legs: SpendLeg[] = take > 0 ? [{ wallet: 'cash', account: cash, amount: take }] : []
  return { legs, covered: take, shortfall: context.amount - take }
}
