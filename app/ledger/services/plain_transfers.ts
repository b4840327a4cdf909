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
  const settings = await walletSettings(trx)
  return cashOnlyPlanOf(rows.map(accountOf), amount, settings.spendingOrder)
}

/** cashOnlyPlan over wallets already read and locked (a holder's, in id order). */
export function cashOnlyPlanOf(
  wallets: AccountRow[],
  amount: number,
  spendingOrder: readonly string[]
): CashPlan | null {
  const cash = wallets.find((wallet) => wallet.kind === 'wallet_cash')
  if (!cash) return null
  let left = amount
  for (const wallet of spendingOrder) {
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

/** A transfer checked against locked accounts, its balances applied to them, not yet written. */
export interface StagedTransfer {
  request: TransferRequest
  publicId: string
  hash: string
  amount: number
  memo: string | null
  metadataJson: string | null
  /** In account order, with the balance each leaves. */
  postings: { accountId: number; amount: number; balanceAfter: number }[]
  /** Set by writeStagedTransfers. */
  id: number
}

/**
 * The checks of PostTransfer (shape, currency, frozen accounts, allowed
 * balances) for a transfer over accounts the caller holds locked; when they
 * pass, the new balances and versions are applied to the account rows and
 * the transfer waits for writeStagedTransfers. The key must not be booked yet.
 */
export function stageLockedTransfer(
  request: TransferRequest,
  accounts: Map<number, AccountRow>
): Result<StagedTransfer, PostTransferError> {
  if (request.reversesTransferId || request.refersToTransferId)
    throw new Error('plain transfers only: reversals go through PostTransfer')
  const prepared = prepareTransfer(request)
  if (!prepared.ok) return prepared
  const { postings } = prepared.value
  const involved = postings.map((posting) => accounts.get(posting.accountId))
  if (involved.some((account) => !account)) return fail('unknown_account')
  const locked = involved as AccountRow[]
  if (new Set(locked.map((account) => account.currency)).size > 1) return fail('currency_mismatch')
  const after: number[] = []
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
    after.push(balance)
  }
  for (const [index, account] of locked.entries()) {
    account.balance = after[index]
    account.version += 1
  }
  return ok({
    request,
    publicId: newPublicId(),
    hash: prepared.value.hash,
    amount: prepared.value.amount,
    memo: prepared.value.memo,
    metadataJson: prepared.value.metadataJson,
    postings: postings.map((posting, index) => ({ ...posting, balanceAfter: after[index] })),
    id: 0,
  })
}

/** Rows per multi-row statement: far below either database's limit on parameters. */
const ROWS_PER_STATEMENT = 250

/** Items in groups of ROWS_PER_STATEMENT, for multi-row statements. */
export function inGroups<T>(items: T[]): T[][] {
  const groups: T[][] = []
  for (let start = 0; start < items.length; start += ROWS_PER_STATEMENT)
    groups.push(items.slice(start, start + ROWS_PER_STATEMENT))
  return groups
}

/**
 * Writes staged transfers in a few statements: the transfers, their
 * postings, and each account's final balance, guarded by the version it had
 * when it was read (so an account written by anyone else meanwhile throws,
 * and the caller's transaction rolls back). Not audited: for terminals' and
 * the system's transfers (ADR 0008). The caller must have staged them over
 * these account rows, in this order, in this transaction.
 */
export async function writeStagedTransfers(
  sql: SqlStatements,
  staged: StagedTransfer[],
  accounts: Map<number, AccountRow>
): Promise<BookedTransfer[]> {
  if (staged.length === 0) return []
  // Whole seconds, as SQLite stores them: what is returned is what is read back.
  const bookedAt = DateTime.utc().set({ millisecond: 0 })
  const now = dbTimeOfMillis(bookedAt.toMillis(), sql.dialect)
  for (const group of inGroups(staged)) {
    const inserted = await sql.all<{ id: unknown; public_id: string }>(
      `INSERT INTO ledger_transfers (public_id, kind, idempotency_key, request_hash, amount,
         reverses_transfer_id, refers_to_transfer_id, memo, metadata, actor_type, actor_id,
         actor_name, booked_at)
       VALUES ${group.map(() => '(?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?)').join(', ')}
       RETURNING id, public_id`,
      group.flatMap((transfer) => [
        transfer.publicId,
        transfer.request.kind,
        transfer.request.idempotencyKey,
        transfer.hash,
        transfer.amount,
        transfer.memo,
        transfer.metadataJson,
        transfer.request.actor.type,
        transfer.request.actor.id ?? null,
        transfer.request.actor.name?.slice(0, 100) ?? null,
        now,
      ])
    )
    const ids = new Map(inserted.map((row) => [row.public_id, Number(row.id)]))
    for (const transfer of group) transfer.id = ids.get(transfer.publicId)!
  }
  // Postings in transfer order, each transfer's in account order, as PostTransfer inserts them.
  const postings = staged.flatMap((transfer) =>
    transfer.postings.map((posting) => ({ transferId: transfer.id, ...posting }))
  )
  for (const group of inGroups(postings)) {
    await sql.run(
      `INSERT INTO ledger_postings (transfer_id, account_id, amount, balance_after, booked_at)
       VALUES ${group.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      group.flatMap((posting) => [
        posting.transferId,
        posting.accountId,
        posting.amount,
        posting.balanceAfter,
        now,
      ])
    )
  }
  // One version step per transfer, as PostTransfer counts them.
  const steps = new Map<number, number>()
  for (const posting of postings)
    steps.set(posting.accountId, (steps.get(posting.accountId) ?? 0) + 1)
  const touched = [...steps.keys()].sort((a, b) => a - b).map((id) => accounts.get(id)!)
  for (const group of inGroups(touched)) {
    const cases = group.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ')
    const changed = await sql.run(
      `UPDATE ledger_accounts SET balance = CASE id ${cases} END,
         version = CASE id ${cases} END, updated_at = ?
       WHERE id IN (${group.map(() => '?').join(', ')}) AND version = CASE id ${cases} END`,
      [
        ...group.flatMap((account) => [account.id, account.balance]),
        ...group.flatMap((account) => [account.id, account.version]),
        now,
        ...group.map((account) => account.id),
        ...group.flatMap((account) => [account.id, account.version - steps.get(account.id)!]),
      ]
    )
    if (changed !== group.length)
      throw new Error('ledger accounts changed while locked: transfers not booked')
  }
  return staged.map((transfer) => ({
    id: transfer.id,
    publicId: transfer.publicId,
    kind: transfer.request.kind,
    amount: transfer.amount,
    idempotencyKey: transfer.request.idempotencyKey,
    reversesTransferId: null,
    refersToTransferId: null,
    memo: transfer.memo,
    metadata: transfer.metadataJson === null ? null : JSON.parse(transfer.metadataJson),
    bookedAt,
    postings: transfer.request.postings.map((posting) => {
      const accountId = typeof posting.account === 'number' ? posting.account : posting.account.id
      return {
        accountId,
        amount: posting.amount,
        balanceAfter: transfer.postings.find((entry) => entry.accountId === accountId)!
          .balanceAfter,
      }
    }),
    replayed: false,
  }))
}

/**
 * Books one transfer over accounts the caller holds locked: stageLockedTransfer
 * then writeStagedTransfers.
 */
export async function writeLockedTransfer(
  sql: SqlStatements,
  request: TransferRequest,
  accounts: Map<number, AccountRow>
): Promise<Result<BookedTransfer, PostTransferError>> {
  const staged = stageLockedTransfer(request, accounts)
  if (!staged.ok) return staged
  const [booked] = await writeStagedTransfers(sql, [staged.value], accounts)
  return ok(booked)
}

/** The wallets of the holders and the accounts of the merchants a chunk of payments names. */
export interface LockedAccounts {
  wallets: Map<number, AccountRow[]>
  merchants: Map<number, AccountRow>
  byId: Map<number, AccountRow>
}

/**
 * Reads and locks (FOR UPDATE on PostgreSQL, in id order) the accounts the
 * payments name: each holder's wallets, each merchant's account.
 */
export async function lockAccounts(
  sql: SqlStatements,
  people: number[],
  merchantIds: number[]
): Promise<LockedAccounts> {
  const locked: LockedAccounts = { wallets: new Map(), merchants: new Map(), byId: new Map() }
  await readLocked(sql, locked, [...new Set(people)], [...new Set(merchantIds)])
  return locked
}

/** One holder's wallets and one merchant's account read again, after the general path wrote them. */
export async function relockAccounts(
  sql: SqlStatements,
  locked: LockedAccounts,
  personId: number,
  merchantId: number
) {
  for (const wallet of locked.wallets.get(personId) ?? []) locked.byId.delete(wallet.id)
  locked.wallets.delete(personId)
  const merchant = locked.merchants.get(merchantId)
  if (merchant) locked.byId.delete(merchant.id)
  locked.merchants.delete(merchantId)
  await readLocked(sql, locked, [personId], [merchantId])
}

async function readLocked(
  sql: SqlStatements,
  locked: LockedAccounts,
  people: number[],
  merchantIds: number[]
) {
  // Wallets and merchant accounts in one statement (one round trip), locked in id order.
  const peopleGroups = inGroups(people)
  const merchantGroups = inGroups(merchantIds)
  for (let index = 0; index < Math.max(peopleGroups.length, merchantGroups.length); index++) {
    const holders = peopleGroups[index] ?? []
    const merchants = merchantGroups[index] ?? []
    const where = [
      ...(holders.length > 0
        ? [
            `(kind IN ('wallet_cash', 'wallet_subsidy', 'wallet_voucher') AND person_id IN (${holders.map(() => '?').join(', ')}))`,
          ]
        : []),
      ...(merchants.length > 0
        ? [`(kind = 'merchant' AND merchant_id IN (${merchants.map(() => '?').join(', ')}))`]
        : []),
    ]
    const rows = await sql.all(
      `SELECT ${ACCOUNT_COLUMNS}, merchant_id FROM ledger_accounts
       WHERE ${where.join(' OR ')} ORDER BY id${forUpdate(sql)}`,
      [...holders, ...merchants]
    )
    for (const row of rows) {
      const account = accountOf(row)
      locked.byId.set(account.id, account)
      if (account.kind === 'merchant') {
        locked.merchants.set(Number(row.merchant_id), account)
      } else if (account.personId !== null) {
        const wallets = locked.wallets.get(account.personId) ?? []
        wallets.push(account)
        locked.wallets.set(account.personId, wallets)
      }
    }
  }
}
