/**
 * Arrears (欠款) and the advance fund (垫资).
 *
 * An offline payment that the holder's wallets cannot cover is still paid to
 * the merchant in full: the advance fund pays the part the wallets could not
 * (the shortfall), and the holder owes it. In postings (credit positive):
 *
 *   payment     wallets −covered, merchant +amount,
 *               advance_fund −shortfall, holder's arrears −shortfall, arrears_control +shortfall
 *   settlement  cash wallet −x, advance_fund +x, holder's arrears +x, arrears_control −x
 *
 * The advance fund (a debit account) shows what the school has advanced and
 * not yet recovered; each holder's arrears account (debit) shows what that
 * holder owes; the arrears control account mirrors the sum of the holders'
 * arrears, so that at any time
 *
 *   shown(advance_fund) = Σ shown(holder arrears) = −shown(arrears_control)
 *
 * which `arrearsInvariant` reads and the tests check. The next top-up
 * settles a holder's arrears first (TopUpAtCounter), in the top-up's own
 * database transaction.
 */
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import { ok, type Result } from '#core/services/result'
import { shownBalance } from '#ledger/services/account_kinds'
import { dbTime, systemAccount, walletFor } from '#ledger/services/accounts'
import { fenFromDb } from '#ledger/services/money'
import {
  PostTransfer,
  type BookedTransfer,
  type PostingInput,
  type PostTransferError,
} from '#ledger/actions/post_transfer'

/** The postings that put a shortfall on the advance fund and the holder's arrears. */
export function advancePostings(
  accounts: { advanceFund: { id: number }; arrears: { id: number }; control: { id: number } },
  shortfall: number
): PostingInput[] {
  if (shortfall <= 0) return []
  return [
    { account: accounts.advanceFund, amount: -shortfall },
    { account: accounts.arrears, amount: -shortfall },
    { account: accounts.control, amount: shortfall },
  ]
}

/** The holder's arrears account id, if the holder ever had arrears; none is created. */
export async function arrearsAccountIdOf(
  personId: number,
  client: QueryClientContract = db.connection()
): Promise<number | null> {
  const row = await client
    .from('ledger_accounts')
    .where('kind', 'arrears')
    .where('person_id', personId)
    .select('id')
    .first()
  return row ? Number(row.id) : null
}

/** What the holder owes now, in fen (0 when nothing). */
export async function arrearsOwed(
  personId: number,
  client: QueryClientContract = db.connection()
): Promise<number> {
  const row = await client
    .from('ledger_accounts')
    .where('kind', 'arrears')
    .where('person_id', personId)
    .select('balance', 'normal_side')
    .first()
  return row ? Math.max(0, shownBalance(row.normal_side, fenFromDb(row.balance))) : 0
}

export interface ArrearsSettlement {
  idempotencyKey: string
  actor: AuditActor
  /** The transfer that triggered the settlement (a top-up), for the record. */
  refersToTransferId?: number | null
}

/**
 * Moves money from the holder's cash wallet to the advance fund, clearing as
 * much of the holder's arrears as the wallet holds. Call it inside the
 * transaction that credited the wallet (a top-up), after that write; null
 * when there was nothing to settle or nothing to settle it with.
 */
export async function settleArrears(
  trx: TransactionClientContract,
  personId: number,
  settlement: ArrearsSettlement
): Promise<Result<BookedTransfer | null, PostTransferError>> {
  const arrears = await trx
    .from('ledger_accounts')
    .where('kind', 'arrears')
    .where('person_id', personId)
    .select('id', 'balance', 'normal_side')
    .first()
  if (!arrears) return ok(null)
  const owed = Math.max(0, shownBalance(arrears.normal_side, fenFromDb(arrears.balance)))
  if (owed === 0) return ok(null)
  const cash = await walletFor(personId, 'cash', trx)
  const available = cash.frozen ? 0 : Math.max(0, shownBalance(cash.normalSide, cash.balance))
  const amount = Math.min(owed, available)
  if (amount === 0) return ok(null)
  const advanceFund = await systemAccount('advance_fund', trx)
  const control = await systemAccount('arrears_control', trx)
  const booked = await new PostTransfer().handle(
    {
      idempotencyKey: settlement.idempotencyKey,
      kind: 'arrears_settlement',
      postings: [
        { account: cash, amount: -amount },
        { account: advanceFund, amount },
        { account: Number(arrears.id), amount },
        { account: control, amount: -amount },
      ],
      metadata: { owedBefore: owed },
      refersToTransferId: settlement.refersToTransferId ?? null,
      actor: settlement.actor,
      audit: false,
    },
    trx
  )
  return booked.ok ? ok(booked.value) : booked
}

/** The three figures that a balanced advance fund keeps equal (see the file's note). */
export async function arrearsInvariant(client: QueryClientContract = db.connection()) {
  const rows = await client
    .from('ledger_accounts')
    .where((query) =>
      query
        .where('kind', 'arrears')
        .orWhere('kind', 'advance_fund')
        .orWhereIn('code', ['advance_fund', 'arrears_control'])
    )
    .select('kind', 'code', 'person_id', 'balance', 'normal_side')
  let advanced = 0
  let holders = 0
  let control = 0
  for (const row of rows) {
    const shown = shownBalance(row.normal_side, fenFromDb(row.balance))
    if (row.code === 'advance_fund') advanced += shown
    else if (row.code === 'arrears_control') control -= shown
    else if (row.person_id !== null) holders += shown
  }
  return { advanced, holders, control }
}

/** Holders who owe something, most owed first. */
export async function holdersInArrears(client: QueryClientContract = db.connection()) {
  const rows = await client
    .from('ledger_accounts')
    .where('kind', 'arrears')
    .whereNotNull('person_id')
    .where('balance', '<', 0)
    .orderBy('balance', 'asc')
    .select('person_id', 'balance')
  return rows.map((row) => ({ personId: Number(row.person_id), owed: -fenFromDb(row.balance) }))
}

/**
 * Records today's arrears reminders (补缴提醒): one per holder who owes
 * something, at most one per holder per school day (a second run the same
 * day adds nothing). The portal shows the latest; Quad has no messaging
 * module yet, so a reminder is this row and what the portal shows.
 */
export async function recordArrearsReminders(
  options: { now?: DateTime } = {}
): Promise<{ day: string; reminded: number; owing: number }> {
  const { schoolZone } = await import('#cards/services/school_zone')
  const now = options.now ?? DateTime.utc()
  const day = now.setZone(await schoolZone()).toISODate()!
  const owing = await holdersInArrears()
  let reminded = 0
  for (let start = 0; start < owing.length; start += 500) {
    const rows = owing.slice(start, start + 500).map((holder) => ({
      person_id: holder.personId,
      amount: holder.owed,
      reminded_on: day,
      created_at: dbTime(db.connection(), now),
    }))
    const inserted = await db
      .knexQuery()
      .table('arrears_reminders')
      .insert(rows)
      .onConflict(['person_id', 'reminded_on'])
      .ignore()
      .returning('id')
    reminded += inserted.length
  }
  return { day, reminded, owing: owing.length }
}

/** What the portal shows a holder: what they owe and the latest reminder. */
export async function arrearsFor(personId: number) {
  const owed = await arrearsOwed(personId)
  if (owed === 0) return { owed: 0, remindedOn: null }
  const latest = await db
    .from('arrears_reminders')
    .where('person_id', personId)
    .orderBy('reminded_on', 'desc')
    .select('reminded_on')
    .first()
  return { owed, remindedOn: (latest?.reminded_on as string | undefined) ?? null }
}
