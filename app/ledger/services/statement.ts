import db from '@adonisjs/lucid/services/db'
import LedgerAccount from '#ledger/models/ledger_account'
import LedgerPosting from '#ledger/models/ledger_posting'
import { WALLET_KINDS } from '#ledger/services/account_kinds'
import { fenFromDb } from '#ledger/services/money'

export const STATEMENT_PER_PAGE = 50

/**
 * A person's wallets, cash first, each kind present even if never used (with
 * a zero balance and no account yet), and their arrears account if any.
 */
export async function walletOverview(personId: number) {
  const accounts = await LedgerAccount.query().where('person_id', personId).orderBy('id')
  const wallets = Object.values(WALLET_KINDS).map((kind) => {
    const account = accounts.find((candidate) => candidate.kind === kind) ?? null
    return { kind, account, balance: account?.shownBalance ?? 0 }
  })
  const arrears = accounts.find((account) => account.kind === 'arrears') ?? null
  return { accounts, wallets, arrears }
}

/** One page of the postings on the person's accounts, newest first, with their transfers. */
export async function personStatement(accountIds: number[], page: number) {
  return LedgerPosting.query()
    .whereIn('account_id', accountIds.length ? accountIds : [0])
    .preload('transfer')
    .preload('account')
    .orderBy('id', 'desc')
    .paginate(page, STATEMENT_PER_PAGE)
}

/** The cash wallet balances of these people, by person id (absent when no wallet exists). */
export async function cashBalances(personIds: number[]): Promise<Map<number, number>> {
  if (personIds.length === 0) return new Map()
  const rows = await db
    .from('ledger_accounts')
    .whereIn('person_id', personIds)
    .where('kind', WALLET_KINDS.cash)
    .select('person_id', 'balance')
  return new Map(rows.map((row) => [Number(row.person_id), fenFromDb(row.balance)]))
}
