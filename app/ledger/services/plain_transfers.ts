/**
 * PostTransfer's writes in plain prepared statements, for the busiest
 * booking paths (code payments at tills, offline records uploaded by
 * terminals; docs/adr/0013-group-commit-for-code-payments.md). The caller
 * has read and locked the accounts in its transaction (`lockedAccountsSql`
 * rows, FOR UPDATE on PostgreSQL; SQLite's transaction holds the database)
 * and checked the key; this module checks the postings exactly as
 * PostTransfer does and writes the same rows with the same request hash.
 */
import { DateTime } from 'luxon'
import { newPublicId } from '#core/services/ids'
import { fail, ok, type Result } from '#core/services/result'
import type { SqlStatements } from '#core/services/sql_statements'
import { dbTimeOfMillis } from '#cards/services/db_time'
import {
  prepareTransfer,
  type BookedTransfer,
  type PostTransferError,
  type TransferRequest,
} from '#ledger/actions/post_transfer'
import { balanceAllowed, shownBalance, type NormalSide } from '#ledger/services/account_kinds'
import { addFen, fenFromDb } from '#ledger/services/money'
import { walletSettings } from '#ledger/services/wallet_settings'
import type { UnitContext } from '#core/services/group_commit'

/** An account as read under its lock; balance and version follow the writes made here. */
export interface AccountRow {
  id: number
  publicId: string
  kind: string
  personId: number | null
  normalSide: NormalSide
  currency: string
  balance: number
  allowNegative: boolean
  frozen: boolean
  version: number
}

/** The columns accountOf reads, for `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts …`. */
export const ACCOUNT_COLUMNS =
  'id, public_id, kind, person_id, normal_side, currency, balance, allow_negative, frozen, version'

export function accountOf(row: Record<string, any>): AccountRow {
  return {
    id: Number(row.id),
    publicId: row.public_id,
    kind: row.kind,
    personId: row.person_id === null || row.person_id === undefined ? null : Number(row.person_id),
    normalSide: row.normal_side,
    currency: row.currency,
    balance: fenFromDb(row.balance),
    allowNegative: Boolean(row.allow_negative),
    frozen: Boolean(row.frozen),
    version: fenFromDb(row.version),
  }
}

/** " FOR UPDATE" on PostgreSQL: SQLite's write transaction already excludes every other writer. */
export function forUpdate(sql: SqlStatements) {
  return sql.dialect === 'postgres' ? ' FOR UPDATE' : ''
}

/** What an account can pay now: nothing when frozen, never below zero. */
export function spendable(account: AccountRow | undefined): number {
  if (!account || account.frozen) return 0
  return Math.max(0, shownBalance(account.normalSide, account.balance))
}

export interface CashPlan {
  wallet: AccountRow
  /** Every wallet of the holder (for the balance after). */
  wallets: AccountRow[]
  shortfall: number
}

/**
 * The plan when cash alone pays: no subsidy or voucher money comes before
 * cash in the spending order with anything to give. Null when the general
 * planner must decide (or the cash wallet does not exist yet).
 */
export async function cashOnlyPlan(
  { trx, sql }: UnitContext,
  amount: number,
  personId: number
): Promise<CashPlan | null> {
  const rows = await sql.all(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts
     WHERE person_id = ? AND kind IN ('wallet_cash', 'wallet_subsidy', 'wallet_voucher')
     ORDER BY id${forUpdate(sql)}`,
    [personId]
  )
  const wallets = rows.map(accountOf)
  const cash = wallets.find((wallet) => wallet.kind === 'wallet_cash')
  if (!cash) return null
  const settings = await walletSettings(trx)
  let left = amount
  for (const wallet of settings.spendingOrder) {
    if (left <= 0) break
    if (wallet === 'cash') {
      left -= Math.min(spendable(cash), left)
      continue
    }
    const kind = wallet === 'subsidy' ? 'wallet_subsidy' : 'wallet_voucher'
    if (wallets.some((account) => account.kind === kind && spendable(account) > 0)) return null
  }
  return { wallet: cash, wallets, shortfall: left }
}

/**
 * Books a transfer over accounts the caller holds locked: the checks of
 * PostTransfer (shape, currency, frozen accounts, allowed balances), then
 * the transfer, its postings in account order and the new balances (each
 * guarded by the version read). Not audited: for terminals' and the
 * system's transfers (ADR 0008). The key must not be booked yet.
 */
export async function writeLockedTransfer(
  sql: SqlStatements,
  request: TransferRequest,
  accounts: Map<number, AccountRow>
): Promise<Result<BookedTransfer, PostTransferError>> {
  if (request.reversesTransferId || request.refersToTransferId)
    throw new Error('writeLockedTransfer books plain transfers: reversals go through PostTransfer')
  const prepared = prepareTransfer(request)
  if (!prepared.ok) return prepared
  const { postings } = prepared.value
  const involved = postings.map((posting) => accounts.get(posting.accountId))
  if (involved.some((account) => !account)) return fail('unknown_account')
  const locked = involved as AccountRow[]
  if (new Set(locked.map((account) => account.currency)).size > 1) return fail('currency_mismatch')
  const after = new Map<number, number>()
  for (const [index, posting] of postings.entries()) {
    const account = locked[index]
    if (account.frozen) return fail('account_frozen', { account: account.publicId })
    const balance = addFen(account.balance, posting.amount)
    if (posting.amount < 0 && !balanceAllowed(account.normalSide, account.allowNegative, balance)) {
      return fail('insufficient_funds', {
        account: account.publicId,
        available: shownBalance(account.normalSide, account.balance),
        requested: Math.abs(posting.amount),
      })
    }
    after.set(posting.accountId, balance)
  }

  // Whole seconds, as SQLite stores them: what is returned is what is read back.
  const bookedAt = DateTime.utc().set({ millisecond: 0 })
  const now = dbTimeOfMillis(bookedAt.toMillis(), sql.dialect)
  const publicId = newPublicId()
  const inserted = await sql.get<{ id: unknown }>(
    `INSERT INTO ledger_transfers (public_id, kind, idempotency_key, request_hash, amount,
       reverses_transfer_id, refers_to_transfer_id, memo, metadata, actor_type, actor_id,
       actor_name, booked_at)
     VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [
      publicId,
      request.kind,
      request.idempotencyKey,
      prepared.value.hash,
      prepared.value.amount,
      prepared.value.memo,
      prepared.value.metadataJson,
      request.actor.type,
      request.actor.id ?? null,
      request.actor.name?.slice(0, 100) ?? null,
      now,
    ]
  )
  const transferId = Number(inserted!.id)
  // One statement for the postings (in account order, as PostTransfer inserts
  // them) and one for the balances, guarded by the versions read.
  await sql.run(
    `INSERT INTO ledger_postings (transfer_id, account_id, amount, balance_after, booked_at)
     VALUES ${postings.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    postings.flatMap((posting) => [
      transferId,
      posting.accountId,
      posting.amount,
      after.get(posting.accountId)!,
      now,
    ])
  )
  const cases = locked.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ')
  const changed = await sql.run(
    `UPDATE ledger_accounts SET balance = CASE id ${cases} END, version = version + 1,
       updated_at = ?
     WHERE id IN (${locked.map(() => '?').join(', ')}) AND version = CASE id ${cases} END`,
    [
      ...locked.flatMap((account) => [account.id, after.get(account.id)!]),
      now,
      ...locked.map((account) => account.id),
      ...locked.flatMap((account) => [account.id, account.version]),
    ]
  )
  if (changed !== locked.length)
    throw new Error('ledger accounts changed while locked: transfer not booked')
  for (const account of locked) {
    account.balance = after.get(account.id)!
    account.version += 1
  }

  return ok({
    id: transferId,
    publicId,
    kind: request.kind,
    amount: prepared.value.amount,
    idempotencyKey: request.idempotencyKey,
    reversesTransferId: null,
    refersToTransferId: null,
    memo: prepared.value.memo,
    metadata: prepared.value.metadataJson === null ? null : JSON.parse(prepared.value.metadataJson),
    bookedAt,
    postings: request.postings.map((posting) => {
      const accountId = typeof posting.account === 'number' ? posting.account : posting.account.id
      return { accountId, amount: posting.amount, balanceAfter: after.get(accountId)! }
    }),
    replayed: false,
  })
}
