/**
 * The holder's own view of their money in the portal (我的钱包): real
 * balances per wallet and a statement of every posting on their accounts,
 * with the shop and merchant a payment or refund was made at.
 */
import type { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import LedgerAccount from '#ledger/models/ledger_account'
import LedgerPosting from '#ledger/models/ledger_posting'
import { WALLET_KINDS } from '#ledger/services/account_kinds'
import { dbTime } from '#ledger/services/accounts'
import { addFen, fenFromDb } from '#ledger/services/money'

export const WALLET_STATEMENT_PER_PAGE = 20

const WALLET_KIND_NAMES = Object.values(WALLET_KINDS) as string[]

/** The sum of the person's wallets (cash, subsidy, vouchers), in fen. */
export async function walletTotal(personId: number): Promise<number> {
  const row = await db
    .from('ledger_accounts')
    .where('person_id', personId)
    .whereIn('kind', WALLET_KIND_NAMES)
    .sum('balance as total')
    .first()
  return fenFromDb(row?.total ?? 0)
}

/** Each wallet kind with its balance (zero for a wallet never used), and arrears when owed. */
export async function walletBalances(personId: number) {
  const accounts = await LedgerAccount.query()
    .where('person_id', personId)
    .whereIn('kind', [...WALLET_KIND_NAMES, 'arrears'])
  const wallets = WALLET_KIND_NAMES.map((kind) => {
    const account = accounts.find((candidate) => candidate.kind === kind)
    return { kind, balance: account?.shownBalance ?? 0, frozen: account?.frozen ?? false }
  })
  const arrearsAccount = accounts.find((account) => account.kind === 'arrears')
  const arrears = arrearsAccount ? arrearsAccount.shownBalance : 0
  let total = 0
  for (const wallet of wallets) total = addFen(total, wallet.balance)
  return { wallets, arrears, total, accountIds: accounts.map((account) => account.id) }
}

export interface StatementLine {
  id: number
  bookedAt: DateTime
  kind: string
  accountKind: string
  amount: number
  balanceAfter: number
  transferPublicId: string
  memo: string | null
  merchantName: string | null
  shopName: string | null
}

/**
 * One page of the postings on these accounts, newest first, optionally
 * within a window (a month), with merchant and shop names for payments,
 * refunds and reversals of payments.
 */
export async function walletStatement(
  accountIds: number[],
  page: number,
  window: { from: DateTime; to: DateTime } | null,
  locale: string
) {
  const query = LedgerPosting.query()
    .whereIn('account_id', accountIds.length ? accountIds : [0])
    .preload('transfer')
    .preload('account')
    .orderBy('id', 'desc')
  if (window) {
    const client = db.connection()
    query
      .where('booked_at', '>=', dbTime(client, window.from))
      .where('booked_at', '<', dbTime(client, window.to))
  }
  const paginator = await query.paginate(page, WALLET_STATEMENT_PER_PAGE)
  const postings = paginator.all()
  const paymentTransferIds = new Set<number>()
  for (const posting of postings) {
    const transfer = posting.transfer
    paymentTransferIds.add(transfer.id)
    if (transfer.refersToTransferId) paymentTransferIds.add(transfer.refersToTransferId)
    if (transfer.reversesTransferId) paymentTransferIds.add(transfer.reversesTransferId)
  }
  const payees = paymentTransferIds.size
    ? await db
        .from('merchant_payments')
        .join('shops', 'shops.id', 'merchant_payments.shop_id')
        .join('merchants', 'merchants.id', 'merchant_payments.merchant_id')
        .whereIn('merchant_payments.transfer_id', [...paymentTransferIds])
        .select(
          'merchant_payments.transfer_id',
          'shops.name as shop_name',
          'shops.name_en as shop_name_en',
          'merchants.name as merchant_name',
          'merchants.name_en as merchant_name_en'
        )
    : []
  const english = !locale.startsWith('zh')
  const payeeOf = new Map(
    payees.map((row) => [
      Number(row.transfer_id),
      {
        shop: english && row.shop_name_en ? row.shop_name_en : row.shop_name,
        merchant: english && row.merchant_name_en ? row.merchant_name_en : row.merchant_name,
      },
    ])
  )
  const lines: StatementLine[] = postings.map((posting) => {
    const transfer = posting.transfer
    const payee =
      payeeOf.get(transfer.id) ??
      (transfer.refersToTransferId ? payeeOf.get(transfer.refersToTransferId) : undefined) ??
      (transfer.reversesTransferId ? payeeOf.get(transfer.reversesTransferId) : undefined) ??
      null
    const shown = posting.account.normalSide === 'credit' ? posting.amount : -posting.amount || 0
    return {
      id: posting.id,
      bookedAt: posting.bookedAt,
      kind: transfer.kind,
      accountKind: posting.account.kind,
      amount: shown,
      balanceAfter:
        posting.account.normalSide === 'credit' ? posting.balanceAfter : -posting.balanceAfter || 0,
      transferPublicId: transfer.publicId,
      memo: transfer.memo,
      merchantName: payee?.merchant ?? null,
      shopName: payee?.shop ?? null,
    }
  })
  return { paginator, lines }
}
