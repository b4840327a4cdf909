import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import { fail, ok, type Fail, type Result } from '#core/services/result'
import { balanceAllowed, shownBalance, type NormalSide } from '#ledger/services/account_kinds'
import { dbTime } from '#ledger/services/accounts'
import { addFen, fenFromDb, isFen } from '#ledger/services/money'
import {
  canonicalJson,
  IDEMPOTENCY_KEY,
  requestHashOf,
  TRANSFER_KIND,
} from '#ledger/services/requests'

/** An account as PostTransfer takes it: its id, or anything that carries it (a LedgerAccount). */
export type AccountRef = number | { id: number }

export interface PostingInput {
  account: AccountRef
  /** Fen; positive credits the account, negative debits it. */
  amount: number
}

export interface TransferRequest {
  /** Terminal id + sequence, or a client key: the same key twice books once. */
  idempotencyKey: string
  /** top_up, payment, refund, reversal, subsidy_issue, subsidy_expiry… */
  kind: string
  postings: PostingInput[]
  memo?: string | null
  /** Facts about the request (channel, receipt, terminal): part of what makes it "the same request". */
  metadata?: Record<string, unknown> | null
  actor: AuditActor
  /** Set by ReverseTransfer: the postings must then be the original's, negated. */
  reversesTransferId?: number | null
  /** The original of a follow-up such as a partial refund. */
  refersToTransferId?: number | null
  /**
   * Write an audit entry as well as the transfer. By default people (console
   * accounts, API clients) are audited per transfer; terminals and the system
   * are not: their transfers carry the actor themselves, and one audit entry
   * per card payment would make the audit chain, which every writer takes in
   * turn, the bottleneck of the whole campus (docs/adr/0008).
   */
  audit?: boolean
  /** The audit action, when the use case has a more telling one than ledger.transfer_booked. */
  auditAction?: string
}

export interface BookedPosting {
  accountId: number
  amount: number
  balanceAfter: number
}

/** A transfer as booked (or as first booked, when `replayed`). */
export interface BookedTransfer {
  id: number
  publicId: string
  kind: string
  amount: number
  idempotencyKey: string
  reversesTransferId: number | null
  refersToTransferId: number | null
  memo: string | null
  metadata: Record<string, unknown> | null
  bookedAt: DateTime
  postings: BookedPosting[]
  /** True when this request had been booked before: nothing new was written. */
  replayed: boolean
}

export type PostTransferError =
  | 'invalid_key'
  | 'invalid_kind'
  | 'invalid_memo'
  | 'invalid_metadata'
  | 'empty_transfer'
  | 'too_many_postings'
  | 'invalid_amount'
  | 'duplicate_account'
  | 'unbalanced'
  | 'unknown_account'
  | 'currency_mismatch'
  | 'account_frozen'
  | 'insufficient_funds'
  | 'idempotency_conflict'
  | 'unknown_transfer'
  | 'not_reversible'
  | 'already_reversed'
  | 'has_follow_ups'
  | 'reversal_mismatch'

export type PostTransferResult = Result<BookedTransfer, PostTransferError>

export const MAX_POSTINGS = 50
export const MAX_MEMO_LENGTH = 255
const MAX_METADATA_LENGTH = 4000

interface LockedAccount {
  id: number
  public_id: string
  kind: string
  normal_side: NormalSide
  currency: string
  balance: number
  allow_negative: boolean
  frozen: boolean
  version: number
}

export interface PreparedTransfer {
  request: TransferRequest
  /** Sorted by account id: the order accounts are locked in. */
  postings: { accountId: number; amount: number }[]
  hash: string
  memo: string | null
  metadataJson: string | null
  amount: number
}

function accountIdOf(ref: AccountRef): number {
  return typeof ref === 'number' ? ref : ref?.id
}

/** Checks the shape of the request; nothing here needs the database. */
export function prepareTransfer(
  request: TransferRequest
): Result<PreparedTransfer, PostTransferError> {
  if (typeof request.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(request.idempotencyKey))
    return fail('invalid_key')
  if (typeof request.kind !== 'string' || !TRANSFER_KIND.test(request.kind))
    return fail('invalid_kind')
  const memo = request.memo?.trim() || null
  if (memo && memo.length > MAX_MEMO_LENGTH) return fail('invalid_memo')
  let metadataJson: string | null = null
  if (request.metadata !== undefined && request.metadata !== null) {
    if (typeof request.metadata !== 'object' || Array.isArray(request.metadata))
      return fail('invalid_metadata')
    metadataJson = canonicalJson(request.metadata)
    if (metadataJson.length > MAX_METADATA_LENGTH) return fail('invalid_metadata')
  }
  if (!Array.isArray(request.postings) || request.postings.length === 0)
    return fail('empty_transfer')
  if (request.postings.length > MAX_POSTINGS) return fail('too_many_postings')

  const postings: { accountId: number; amount: number }[] = []
  const seen = new Set<number>()
  let sum = 0
  let credits = 0
  for (const posting of request.postings) {
    const accountId = accountIdOf(posting.account)
    if (!Number.isSafeInteger(accountId) || accountId <= 0) return fail('unknown_account')
    if (!isFen(posting.amount) || posting.amount === 0) return fail('invalid_amount')
    if (seen.has(accountId)) return fail('duplicate_account', { accountId })
    seen.add(accountId)
    sum = addFen(sum, posting.amount)
    if (posting.amount > 0) credits = addFen(credits, posting.amount)
    postings.push({ accountId, amount: posting.amount })
  }
  if (sum !== 0) return fail('unbalanced', { sum })
  postings.sort((a, b) => a.accountId - b.accountId)

  const hash = requestHashOf(
    {
      kind: request.kind,
      postings: postings.map((posting) => [posting.accountId, posting.amount]),
      memo,
      reversesTransferId: request.reversesTransferId ?? null,
      refersToTransferId: request.refersToTransferId ?? null,
    },
    metadataJson
  )
  return ok({ request, postings, hash, memo, metadataJson, amount: credits })
}

function isPostgres(client: QueryClientContract) {
  return client.dialect.name === 'postgres'
}

/** The number of rows an UPDATE changed, as either driver reports it. */
function affectedRows(result: unknown): number {
  if (Array.isArray(result)) return Number(result[0] ?? 0)
  return Number(result ?? 0)
}

/** Which unique index refused an insert, if that is what happened. */
function uniqueViolation(error: unknown): 'idempotency_key' | 'reverses_transfer_id' | null {
  const failure = error as { code?: string; constraint?: string; message?: string }
  if (failure?.code !== '23505' && failure?.code !== 'SQLITE_CONSTRAINT_UNIQUE') return null
  const text = `${failure.constraint ?? ''} ${failure.message ?? ''}`
  if (text.includes('idempotency_key')) return 'idempotency_key'
  if (text.includes('reverses_transfer_id')) return 'reverses_transfer_id'
  return null
}

/** Loads a booked transfer and its postings. */
export async function loadBookedTransfer(
  client: QueryClientContract,
  transferId: number,
  replayed: boolean
): Promise<BookedTransfer> {
  const row = await client.from('ledger_transfers').where('id', transferId).firstOrFail()
  const postings = await client
    .from('ledger_postings')
    .where('transfer_id', transferId)
    .orderBy('id')
    .select('account_id', 'amount', 'balance_after')
  const bookedAt =
    row.booked_at instanceof Date
      ? DateTime.fromJSDate(row.booked_at, { zone: 'utc' })
      : DateTime.fromSQL(String(row.booked_at), { zone: 'utc' })
  return {
    id: Number(row.id),
    publicId: row.public_id,
    kind: row.kind,
    amount: fenFromDb(row.amount),
    idempotencyKey: row.idempotency_key,
    reversesTransferId: row.reverses_transfer_id === null ? null : Number(row.reverses_transfer_id),
    refersToTransferId:
      row.refers_to_transfer_id === null ? null : Number(row.refers_to_transfer_id),
    memo: row.memo,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    bookedAt,
    postings: postings.map((posting) => ({
      accountId: Number(posting.account_id),
      amount: fenFromDb(posting.amount),
      balanceAfter: fenFromDb(posting.balance_after),
    })),
    replayed,
  }
}

/**
 * The answer to a request whose key is already booked: the first transfer if
 * the request is the same, a conflict if the key was used for another one.
 */
async function settleExisting(
  client: QueryClientContract,
  key: string,
  hash: string
): Promise<PostTransferResult | null> {
  const existing = await client
    .from('ledger_transfers')
    .where('idempotency_key', key)
    .select('id', 'public_id', 'request_hash')
    .first()
  if (!existing) return null
  if (existing.request_hash !== hash)
    return fail('idempotency_conflict', { transfer: existing.public_id })
  return ok(await loadBookedTransfer(client, Number(existing.id), true))
}

/**
 * Locks the accounts in id order, so that two transfers over the same
 * accounts wait for each other instead of deadlocking. PostgreSQL locks the
 * rows; SQLite has one writer at a time, and a write is the first statement
 * so that the transaction takes the write lock (waiting up to busy_timeout)
 * before it reads anything another process could change.
 */
async function lockAccounts(
  trx: TransactionClientContract,
  ids: number[]
): Promise<Map<number, LockedAccount>> {
  const columns = [
    'id',
    'public_id',
    'kind',
    'normal_side',
    'currency',
    'balance',
    'allow_negative',
    'frozen',
    'version',
  ]
  let rows: any[]
  if (isPostgres(trx)) {
    rows = await trx
      .from('ledger_accounts')
      .whereIn('id', ids)
      .orderBy('id')
      .forUpdate()
      .select(columns)
  } else {
    await trx
      .from('ledger_accounts')
      .whereIn('id', ids)
      .update({ version: trx.raw('version') })
    rows = await trx.from('ledger_accounts').whereIn('id', ids).select(columns)
  }
  return new Map(
    rows.map((row) => [
      Number(row.id),
      {
        id: Number(row.id),
        public_id: row.public_id,
        kind: row.kind,
        normal_side: row.normal_side,
        currency: row.currency,
        balance: fenFromDb(row.balance),
        allow_negative: Boolean(row.allow_negative),
        frozen: Boolean(row.frozen),
        version: fenFromDb(row.version),
      },
    ])
  )
}

/** The checks a reversal must pass, made while its accounts are locked. */
async function checkReversal(
  trx: TransactionClientContract,
  prepared: PreparedTransfer
): Promise<Fail<PostTransferError> | null> {
  const originalId = prepared.request.reversesTransferId!
  const original = await trx
    .from('ledger_transfers')
    .where('id', originalId)
    .select('id', 'reverses_transfer_id')
    .first()
  if (!original) return fail('unknown_transfer')
  if (original.reverses_transfer_id !== null) return fail('not_reversible')
  const reversal = await trx
    .from('ledger_transfers')
    .where('reverses_transfer_id', originalId)
    .select('public_id')
    .first()
  if (reversal) return fail('already_reversed', { reversal: reversal.public_id })
  // A payment already partly refunded cannot be reversed in full as well:
  // the holder would get the refunded part twice. Reversed follow-ups do not count.
  const followUp = await trx
    .from('ledger_transfers as follow_up')
    .where('follow_up.refers_to_transfer_id', originalId)
    .whereNotExists((query) =>
      query
        .from('ledger_transfers as undo')
        .whereColumn('undo.reverses_transfer_id', 'follow_up.id')
        .select('undo.id')
    )
    .select('follow_up.public_id')
    .first()
  if (followUp) return fail('has_follow_ups', { transfer: followUp.public_id })
  const postings = await trx
    .from('ledger_postings')
    .where('transfer_id', originalId)
    .select('account_id', 'amount')
  const expected = postings
    .map((posting) => `${Number(posting.account_id)}:${-fenFromDb(posting.amount)}`)
    .sort()
  const given = prepared.postings.map((posting) => `${posting.accountId}:${posting.amount}`).sort()
  if (expected.join(',') !== given.join(',')) return fail('reversal_mismatch')
  return null
}

/**
 * The one write path of the ledger. Books a transfer (postings that sum to
 * zero) in one database transaction: locks the accounts, refuses frozen
 * accounts and balances an account may not have, writes the transfer, its
 * postings with each account's balance after them, the accounts' new stored
 * balances and, for people's requests, an audit entry.
 *
 * Idempotent: a request whose key is already booked books nothing and
 * answers with the first transfer (`replayed: true`), or `idempotency_conflict`
 * if the key was booked for different content; two requests racing with one
 * key end the same way.
 *
 * Pass `trx` to book as part of a larger change. On SQLite the caller's
 * transaction should not have read anything yet (a SQLite transaction that
 * reads before it writes can be refused the write lock when another process
 * wrote in between).
 */
export class PostTransfer {
  async handle(
    request: TransferRequest,
    trx?: TransactionClientContract
  ): Promise<PostTransferResult> {
    const prepared = prepareTransfer(request)
    if (!prepared.ok) return prepared
    const { hash } = prepared.value

    // A retry is answered without taking any lock. Not inside a caller's
    // SQLite transaction, where a read before the first write is what the
    // note above warns about; the check under the locks covers that case.
    if (!trx || isPostgres(trx)) {
      const early = await settleExisting(trx ?? db.connection(), request.idempotencyKey, hash)
      if (early) return early
    }

    if (trx) {
      return this.book(trx, prepared.value, async (insert) => {
        // A savepoint: a unique violation must not abort the caller's transaction.
        try {
          return await trx.transaction((savepoint) => insert(savepoint))
        } catch (error) {
          return this.afterViolation(trx, error, prepared.value)
        }
      })
    }
    try {
      return await db.transaction((own) => this.book(own, prepared.value, (insert) => insert(own)))
    } catch (error) {
      return this.afterViolation(db.connection(), error, prepared.value)
    }
  }

  /**
   * A concurrent request inserted first: with the same key, answer as a
   * retry would be answered; as a second reversal of one transfer, refuse.
   */
  private async afterViolation(
    client: QueryClientContract,
    error: unknown,
    prepared: PreparedTransfer
  ): Promise<PostTransferResult> {
    const violated = uniqueViolation(error)
    if (violated === 'idempotency_key') {
      const settled = await settleExisting(client, prepared.request.idempotencyKey, prepared.hash)
      if (settled) return settled
    }
    if (violated === 'reverses_transfer_id') return fail('already_reversed')
    throw error
  }

  private async book(
    trx: TransactionClientContract,
    prepared: PreparedTransfer,
    guardInsert: (
      insert: (client: TransactionClientContract) => Promise<number>
    ) => Promise<number | PostTransferResult>
  ): Promise<PostTransferResult> {
    const { request, postings } = prepared
    const ids = postings.map((posting) => posting.accountId)
    const accounts = await lockAccounts(trx, ids)
    if (accounts.size !== ids.length)
      return fail('unknown_account', { accountIds: ids.filter((id) => !accounts.has(id)) })

    // Under the locks, a request with this key that committed meanwhile is visible.
    const raced = await settleExisting(trx, request.idempotencyKey, prepared.hash)
    if (raced) return raced

    if (request.reversesTransferId !== undefined && request.reversesTransferId !== null) {
      const refused = await checkReversal(trx, prepared)
      if (refused) return refused
    }
    if (request.refersToTransferId !== undefined && request.refersToTransferId !== null) {
      const original = await trx
        .from('ledger_transfers')
        .where('id', request.refersToTransferId)
        .select('id')
        .first()
      if (!original) return fail('unknown_transfer')
    }

    const currencies = new Set([...accounts.values()].map((account) => account.currency))
    if (currencies.size > 1) return fail('currency_mismatch')
    const after = new Map<number, number>()
    for (const posting of postings) {
      const account = accounts.get(posting.accountId)!
      if (account.frozen) return fail('account_frozen', { account: account.public_id })
      const balance = addFen(account.balance, posting.amount)
      if (
        posting.amount < 0 &&
        !balanceAllowed(account.normal_side, account.allow_negative, balance)
      ) {
        return fail('insufficient_funds', {
          account: account.public_id,
          available: shownBalance(account.normal_side, account.balance),
          requested: Math.abs(posting.amount),
        })
      }
      after.set(posting.accountId, balance)
    }

    // Whole seconds, as SQLite stores them: what is returned is what is read back.
    const bookedAt = DateTime.utc().set({ millisecond: 0 })
    const now = dbTime(trx, bookedAt)
    const publicId = newPublicId()
    const inserted = await guardInsert(async (client) => {
      const [row] = await client
        .insertQuery()
        .table('ledger_transfers')
        .insert({
          public_id: publicId,
          kind: request.kind,
          idempotency_key: request.idempotencyKey,
          request_hash: prepared.hash,
          amount: prepared.amount,
          reverses_transfer_id: request.reversesTransferId ?? null,
          refers_to_transfer_id: request.refersToTransferId ?? null,
          memo: prepared.memo,
          metadata: prepared.metadataJson,
          actor_type: request.actor.type,
          actor_id: request.actor.id ?? null,
          actor_name: request.actor.name?.slice(0, 100) ?? null,
          booked_at: now,
        })
        .returning('id')
      return Number(typeof row === 'object' ? row.id : row)
    })
    if (typeof inserted !== 'number') return inserted
    const transferId = inserted

    await trx
      .insertQuery()
      .table('ledger_postings')
      .multiInsert(
        postings.map((posting) => ({
          transfer_id: transferId,
          account_id: posting.accountId,
          amount: posting.amount,
          balance_after: after.get(posting.accountId)!,
          booked_at: now,
        }))
      )

    // One statement for all the accounts. The version guard makes a write
    // that did not hold the lock fail loudly instead of losing an update.
    const balanceCases = ids.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ')
    const versionCases = ids.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ')
    const updated = await trx
      .from('ledger_accounts')
      .whereIn('id', ids)
      .whereRaw(
        `version = CASE id ${versionCases} END`,
        ids.flatMap((id) => [id, accounts.get(id)!.version])
      )
      .update({
        balance: trx.raw(
          `CASE id ${balanceCases} END`,
          ids.flatMap((id) => [id, after.get(id)!])
        ),
        version: trx.raw('version + 1'),
        updated_at: now,
      })
    if (affectedRows(updated) !== ids.length)
      throw new Error('ledger accounts changed while locked: transfer not booked')

    const audited = request.audit ?? (request.actor.type === 'user' || request.actor.type === 'api')
    if (audited) {
      await recordAudit(
        request.actor,
        {
          action:
            request.auditAction ??
            (request.reversesTransferId ? 'ledger.transfer_reversed' : 'ledger.transfer_booked'),
          subjectType: 'ledger_transfer',
          subjectId: publicId,
          after: {
            kind: request.kind,
            amount: prepared.amount,
            memo: prepared.memo,
            postings: postings.map((posting) => ({
              account: accounts.get(posting.accountId)!.public_id,
              kind: accounts.get(posting.accountId)!.kind,
              amount: posting.amount,
            })),
          },
          meta: { idempotencyKey: request.idempotencyKey },
        },
        trx
      )
    }

    return ok({
      id: transferId,
      publicId,
      kind: request.kind,
      amount: prepared.amount,
      idempotencyKey: request.idempotencyKey,
      reversesTransferId: request.reversesTransferId ?? null,
      refersToTransferId: request.refersToTransferId ?? null,
      memo: prepared.memo,
      metadata: prepared.metadataJson === null ? null : JSON.parse(prepared.metadataJson),
      bookedAt,
      postings: request.postings.map((posting) => {
        const accountId = accountIdOf(posting.account)
        return { accountId, amount: posting.amount, balanceAfter: after.get(accountId)! }
      }),
      replayed: false,
    })
  }
}
