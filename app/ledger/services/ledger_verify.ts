import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { balanceAllowed, type NormalSide } from '#ledger/services/account_kinds'
import { addFen, fenFromDb } from '#ledger/services/money'

/** The account a problem was found on, as an operator looks it up. */
export interface AccountLabel {
  publicId: string
  kind: string
  /** Person number, merchant id or system code. */
  owner: string | null
}

/**
 * What can be wrong with the book:
 * - balance_mismatch: the stored balance is not the sum of the account's postings;
 * - chain_break: a posting's balance_after is not the previous one plus its amount;
 * - overdrawn: an account that may not go below zero is below zero;
 * - unbalanced_transfer: a transfer's postings do not sum to zero;
 * - empty_transfer: a transfer with fewer than two postings;
 * - amount_mismatch: a transfer's stored amount is not the sum of its credits;
 * - book_not_zero: all postings, or all stored balances, do not sum to zero.
 */
export type LedgerProblem =
  | { type: 'balance_mismatch'; account: AccountLabel; stored: number; computed: number }
  | {
      type: 'chain_break'
      account: AccountLabel
      postingId: number
      expected: number
      found: number
    }
  | { type: 'overdrawn'; account: AccountLabel; balance: number }
  | { type: 'unbalanced_transfer'; transfer: string; sum: number }
  | { type: 'empty_transfer'; transfer: string; postings: number }
  | { type: 'amount_mismatch'; transfer: string; stored: number; computed: number }
  | { type: 'book_not_zero'; postingsTotal: number; balancesTotal: number }

export interface LedgerVerification {
  ok: boolean
  accounts: number
  postings: number
  transfers: number
  postingsTotal: number
  balancesTotal: number
  /** The first MAX_REPORTED problems. */
  problems: LedgerProblem[]
  /** All problems found, reported or not. */
  problemCount: number
}

export interface VerifyProgress {
  stage: 'accounts' | 'transfers'
  done: number
  total: number
}

export interface VerifyLedgerOptions {
  /** Rows read per query: memory use depends on this, not on the size of the book. */
  batchSize?: number
  onProgress?: (progress: VerifyProgress) => void
}

const MAX_REPORTED = 1000

interface AccountRow {
  id: number
  public_id: string
  kind: string
  normal_side: NormalSide
  balance: unknown
  allow_negative: unknown
  person_no: string | null
  merchant_id: number | null
  code: string | null
}

function label(row: AccountRow): AccountLabel {
  return {
    publicId: row.public_id,
    kind: row.kind,
    owner: row.person_no ?? (row.merchant_id !== null ? `merchant ${row.merchant_id}` : row.code),
  }
}

async function countOf(client: QueryClientContract, table: string): Promise<number> {
  const [row] = await client.from(table).count('* as total')
  return Number(row.total)
}

/**
 * Recomputes the book from its postings and compares: every account's
 * balance and balance_after chain, every transfer's sum and amount, and the
 * totals. Reads in batches inside one snapshot (repeatable read on
 * PostgreSQL, a read transaction on SQLite), so that transfers booked while
 * it runs are either wholly seen or not at all.
 */
export async function verifyLedger(options: VerifyLedgerOptions = {}): Promise<LedgerVerification> {
  const batchSize = Math.max(10, options.batchSize ?? 5000)
  const postgres = db.connection().dialect.name === 'postgres'
  const trx = await db.transaction(postgres ? { isolationLevel: 'repeatable read' } : {})
  try {
    return await verifyIn(trx, batchSize, options.onProgress ?? (() => {}))
  } finally {
    await trx.rollback()
  }
}

async function verifyIn(
  client: QueryClientContract,
  batchSize: number,
  onProgress: (progress: VerifyProgress) => void
): Promise<LedgerVerification> {
  const problems: LedgerProblem[] = []
  let problemCount = 0
  const report = (problem: LedgerProblem) => {
    problemCount += 1
    if (problems.length < MAX_REPORTED) problems.push(problem)
  }

  const accountTotal = await countOf(client, 'ledger_accounts')
  const transferTotal = await countOf(client, 'ledger_transfers')
  let accounts = 0
  let postings = 0
  let postingsTotal = 0
  let balancesTotal = 0

  // Accounts a batch at a time; for each batch its postings in (account, id)
  // order, a page at a time, so that one account with millions of postings
  // (the counter's clearing account) streams like any other.
  let afterAccount = 0
  for (;;) {
    const rows: AccountRow[] = await client
      .from('ledger_accounts as a')
      .leftJoin('people as p', 'p.id', 'a.person_id')
      .where('a.id', '>', afterAccount)
      .orderBy('a.id')
      .limit(batchSize)
      .select(
        'a.id',
        'a.public_id',
        'a.kind',
        'a.normal_side',
        'a.balance',
        'a.allow_negative',
        'a.merchant_id',
        'a.code',
        'p.person_no'
      )
    if (rows.length === 0) break
    const first = Number(rows[0].id)
    const last = Number(rows[rows.length - 1].id)
    afterAccount = last

    const sums = new Map<number, number>()
    const chains = new Map<number, number>()
    const broken = new Set<number>()
    const byId = new Map(rows.map((row) => [Number(row.id), row]))
    let cursor: [number, number] = [first - 1, Number.MAX_SAFE_INTEGER]
    for (;;) {
      const page = await client
        .from('ledger_postings')
        .where('account_id', '>=', first)
        .where('account_id', '<=', last)
        .whereRaw('(account_id, id) > (?, ?)', cursor)
        .orderBy([
          { column: 'account_id', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .limit(batchSize)
        .select('id', 'account_id', 'amount', 'balance_after')
      for (const posting of page) {
        const accountId = Number(posting.account_id)
        const amount = fenFromDb(posting.amount)
        const balanceAfter = fenFromDb(posting.balance_after)
        const previous = chains.get(accountId) ?? 0
        const expected = addFen(previous, amount)
        if (expected !== balanceAfter && !broken.has(accountId)) {
          // Only the first break of an account: every later posting follows from it.
          broken.add(accountId)
          report({
            type: 'chain_break',
            account: label(byId.get(accountId)!),
            postingId: Number(posting.id),
            expected,
            found: balanceAfter,
          })
        }
        chains.set(accountId, balanceAfter)
        sums.set(accountId, addFen(sums.get(accountId) ?? 0, amount))
        postings += 1
      }
      if (page.length < batchSize) break
      const tail = page[page.length - 1]
      cursor = [Number(tail.account_id), Number(tail.id)]
    }

    for (const row of rows) {
      const stored = fenFromDb(row.balance)
      const computed = sums.get(Number(row.id)) ?? 0
      if (stored !== computed)
        report({ type: 'balance_mismatch', account: label(row), stored, computed })
      if (!balanceAllowed(row.normal_side, Boolean(row.allow_negative), stored))
        report({ type: 'overdrawn', account: label(row), balance: stored })
      balancesTotal = addFen(balancesTotal, stored)
      postingsTotal = addFen(postingsTotal, computed)
      accounts += 1
    }
    onProgress({ stage: 'accounts', done: accounts, total: accountTotal })
  }

  // Transfers in windows of ids: each window is one indexed range, the same
  // cost at the millionth transfer as at the first.
  const [{ max }] = await client.from('ledger_transfers').max('id as max')
  const maxTransfer = Number(max ?? 0)
  let transfers = 0
  for (let start = 0; start < maxTransfer; start += batchSize) {
    const rows = await client
      .from('ledger_transfers as t')
      .leftJoin('ledger_postings as p', 'p.transfer_id', 't.id')
      .where('t.id', '>', start)
      .where('t.id', '<=', start + batchSize)
      .groupBy('t.id', 't.public_id', 't.amount')
      .select('t.id', 't.public_id', 't.amount')
      .select(
        client.raw('COUNT(p.id) AS postings'),
        client.raw('COALESCE(SUM(p.amount), 0) AS total'),
        client.raw('COALESCE(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), 0) AS credits')
      )
    for (const row of rows) {
      const count = Number(row.postings)
      const sum = fenFromDb(row.total)
      const credits = fenFromDb(row.credits)
      const amount = fenFromDb(row.amount)
      if (count < 2) report({ type: 'empty_transfer', transfer: row.public_id, postings: count })
      if (sum !== 0) report({ type: 'unbalanced_transfer', transfer: row.public_id, sum })
      if (credits !== amount)
        report({
          type: 'amount_mismatch',
          transfer: row.public_id,
          stored: amount,
          computed: credits,
        })
      transfers += 1
    }
    onProgress({ stage: 'transfers', done: transfers, total: transferTotal })
  }

  if (postingsTotal !== 0 || balancesTotal !== 0)
    report({ type: 'book_not_zero', postingsTotal, balancesTotal })

  return {
    ok: problemCount === 0,
    accounts,
    postings,
    transfers,
    postingsTotal,
    balancesTotal,
    problems,
    problemCount,
  }
}
