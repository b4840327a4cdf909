import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import { verifyCode, type VerifiedCode, type VerifyError } from '#cards/campus_code/verify'
import { issuerKeyRing } from '#cards/services/issuer_signing'
import { recordReplay, replayFreezePolicy } from '#cards/services/replay_store'
import { arrearsAccountFor, merchantAccount, systemAccount } from '#ledger/services/accounts'
import { advancePostings } from '#ledger/services/arrears'
import { canonicalJson } from '#ledger/services/requests'
import { planSpending, recordSpending } from '#ledger/services/spending'
import { PostTransfer, type PostingInput } from '#ledger/actions/post_transfer'
import { sqlStatements, type SqlStatements } from '#core/services/sql_statements'
import { dbTimeOfMillis } from '#cards/services/db_time'
import { walletSettings } from '#ledger/services/wallet_settings'
import { insertMerchantPayments } from '#merchants/services/shop_payments'
import {
  cashOnlyPlanOf,
  inGroups,
  lockAccounts,
  relockAccounts,
  stageLockedTransfer,
  writeStagedTransfers,
  type StagedTransfer,
} from '#ledger/services/plain_transfers'

/**
 * Books the payments a terminal recorded while it was offline (dual-offline:
 * neither the phone nor the terminal reached Quad). Each record is booked
 * once: its idempotency key is the terminal id and the terminal's own
 * sequence number, kept as a row of offline_payment_records in the booking
 * transaction, so the same batch uploaded again books nothing more.
 *
 * At upload every code is verified again, with the issuer keys, at the
 * record's own time: a terminal that reports a code that does not verify,
 * names another card than its code, or was not at the shop it reports, is
 * refused and flagged. A code already accepted (online, or in a record of
 * any terminal) is a replay: refused, flagged and counted against the card.
 * The blacklist is not applied again: the terminal decided with the list it
 * had, and the holder did buy.
 *
 * The holder's wallets pay what they can (planSpending); the rest is paid to
 * the merchant by the advance fund and owed by the holder as arrears, all
 * in one balanced transfer (services/arrears.ts).
 */

/** Records per upload. */
export const MAX_OFFLINE_BATCH = 500
/** Records booked per database transaction. */
const CHUNK = 250
/** ¥10,000.00: no offline purchase comes near it. */
export const MAX_OFFLINE_AMOUNT = 1_000_000
/** A record stamped later than this ahead of the server's clock is refused. */
export const MAX_RECORD_LEAD_SECONDS = 300

export interface OfflineRecordInput {
  /** The terminal's own sequence number: a positive integer, unique per terminal. */
  sequence: number
  /** The campus code text the terminal verified. */
  code: string
  cardNo: string
  /** Fen. */
  amount: number
  /** Unix seconds, the terminal's clock. */
  recordedAt: number
  /** The shop's public id. */
  shop: string
}

export interface OfflineBatch {
  /** The uploading terminal's public id. */
  terminalId: string
  /** The shop the terminal belongs to, when it belongs to one: records naming another are refused. */
  terminalShop?: string | null
  records: OfflineRecordInput[]
  actor: AuditActor
  /** Unix seconds (default: now). */
  now?: number
}

/** Why a record was refused; the flagged ones the school should look at. */
export type OfflineRefusal =
  | 'invalid_record'
  | 'sequence_conflict'
  | 'recorded_in_future'
  | 'code_invalid'
  | 'code_time_mismatch'
  | 'card_mismatch'
  | 'code_replayed'
  | 'unknown_card'
  | 'shop_not_found'
  | 'wrong_shop'
  | 'not_booked'

export type OfflineFlag =
  'forged_code' | 'card_mismatch' | 'clock_mismatch' | 'replayed_code' | 'wrong_shop'

export type OfflineRecordResult =
  | {
      sequence: number
      status: 'booked'
      record: string
      transfer: string
      covered: number
      advanced: number
    }
  | {
      sequence: number
      status: 'duplicate'
      record: string
      /** What the first upload of this record ended as. */
      first: 'booked' | 'refused'
      transfer: string | null
      refusal: OfflineRefusal | null
    }
  | {
      sequence: number
      status: 'refused'
      record: string | null
      refusal: OfflineRefusal
      flag: OfflineFlag | null
      detail?: string
    }

export interface OfflineBatchSummary {
  results: OfflineRecordResult[]
  booked: number
  duplicates: number
  refused: number
  flagged: number
}

/** Signature and format failures: the terminal cannot have verified such a code. */
const FORGERY_ERRORS: readonly VerifyError[] = [
  'malformed',
  'unsupported_version',
  'unknown_issuer_key',
  'bad_issuer_signature',
  'issuer_key_retired',
  'credential_invalid',
  'bad_device_signature',
]

interface Checked {
  input: OfflineRecordInput
  hash: string
  /** The verification at the record's time, or the refusal it ends in. */
  verified: VerifiedCode | null
  refusal: { refusal: OfflineRefusal; flag: OfflineFlag | null; detail?: string } | null
}

interface ShopRow {
  id: number
  publicId: string
  merchantId: number
  category: string | null
}

function shapeOk(record: OfflineRecordInput): boolean {
  return (
    record !== null &&
    typeof record === 'object' &&
    Number.isSafeInteger(record.sequence) &&
    record.sequence > 0 &&
    typeof record.code === 'string' &&
    record.code.length > 0 &&
    record.code.length <= 1024 &&
    typeof record.cardNo === 'string' &&
    /^[0-9A-Za-z]{1,32}$/.test(record.cardNo) &&
    Number.isSafeInteger(record.amount) &&
    record.amount >= 1 &&
    record.amount <= MAX_OFFLINE_AMOUNT &&
    Number.isSafeInteger(record.recordedAt) &&
    record.recordedAt > 0 &&
    typeof record.shop === 'string' &&
    /^[0-9A-Za-z]{1,26}$/.test(record.shop)
  )
}

function contentHash(record: OfflineRecordInput): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        code: record.code,
        cardNo: record.cardNo,
        amount: record.amount,
        recordedAt: record.recordedAt,
        shop: record.shop,
      })
    )
    .digest('hex')
}

/** Verifies a record's code at the record's time: CPU work, done before any lock is taken. */
async function check(record: OfflineRecordInput, now: number): Promise<Checked> {
  const hash = contentHash(record)
  const base = { input: record, hash, verified: null }
  if (record.recordedAt > now + MAX_RECORD_LEAD_SECONDS)
    return { ...base, refusal: { refusal: 'recorded_in_future', flag: 'clock_mismatch' } }
  const result = await verifyCode(record.code, {
    issuerKeys: await issuerKeyRing(),
    now: record.recordedAt,
    // A batch's checks run on the thread pool while earlier uploads are booked.
    inBackground: true,
  })
  if (!result.ok) {
    const forged = FORGERY_ERRORS.includes(result.error)
    return {
      ...base,
      refusal: forged
        ? { refusal: 'code_invalid', flag: 'forged_code', detail: result.error }
        : { refusal: 'code_time_mismatch', flag: 'clock_mismatch', detail: result.error },
    }
  }
  if (result.value.cardNo !== record.cardNo)
    return { ...base, refusal: { refusal: 'card_mismatch', flag: 'card_mismatch' } }
  return { ...base, verified: result.value, refusal: null }
}

/** What booking one record ended in. */
type BookOneOutcome =
  | {
      status: 'booked'
      transfer: string
      transferId: number
      personId: number
      shopId: number
      covered: number
      advanced: number
    }
  | { status: 'refused'; refusal: OfflineRefusal; flag: OfflineFlag | null; detail?: string }

interface Holder {
  cardId: number
  personId: number
}

/** A record seen for the first time in this upload, on its way to an outcome. */
interface Pending {
  entry: Checked
  row: { id: number; publicId: string }
  /** Set once the record passes the checks that need no database. */
  shop: ShopRow | null
  holder: Holder | null
}

/** A transaction that may succeed when run again (a deadlock, a lost race on a unique index). */
function retryable(error: unknown): boolean {
  const code = (error as { code?: string })?.code
  return code === '40P01' || code === '40001' || code === '23505'
}

export class BookOfflinePayments {
  async handle(batch: OfflineBatch): Promise<OfflineBatchSummary> {
    if (typeof batch.terminalId !== 'string' || !/^[\x21-\x7E]{1,26}$/.test(batch.terminalId))
      throw new Error('BookOfflinePayments needs the terminal public id')
    const now = batch.now ?? Math.floor(Date.now() / 1000)
    const results = new Map<number, OfflineRecordResult>()
    const seen = new Set<number>()
    const valid: OfflineRecordInput[] = []
    const records = Array.isArray(batch.records) ? batch.records : []
    for (const [index, record] of records.entries()) {
      if (index >= MAX_OFFLINE_BATCH || !shapeOk(record) || seen.has(record.sequence)) {
        const sequence = Number(record?.sequence)
        if (!Number.isSafeInteger(sequence) || !results.has(sequence)) {
          results.set(Number.isSafeInteger(sequence) ? sequence : -index - 1, {
            sequence: Number.isSafeInteger(sequence) ? sequence : 0,
            status: 'refused',
            record: null,
            refusal: 'invalid_record',
            flag: null,
          })
        }
        continue
      }
      seen.add(record.sequence)
      valid.push(record)
    }

    const checked = await Promise.all(valid.map((record) => check(record, now)))
    const shops = await this.shops(checked)
    const people = await this.cardHolders(checked)
    const replays: { cardNo: string; codeId: string }[] = []

    for (let start = 0; start < checked.length; start += CHUNK) {
      const chunk = checked.slice(start, start + CHUNK)
      for (let attempt = 1; ; attempt++) {
        try {
          const booked = await db.transaction((trx) =>
            this.bookChunk(trx, batch, chunk, shops, people, now)
          )
          for (const result of booked.results) results.set(result.sequence, result)
          replays.push(...booked.replays)
          break
        } catch (error) {
          if (attempt >= 3 || !retryable(error)) throw error
        }
      }
    }

    // Outside the booking transaction: recordReplay takes its own (and may freeze the card).
    for (const replay of replays) {
      await recordReplay(
        { ...replay, verifier: batch.terminalId, now },
        batch.actor,
        replayFreezePolicy()
      )
    }

    const ordered = [...results.values()]
    return {
      results: ordered,
      booked: ordered.filter((result) => result.status === 'booked').length,
      duplicates: ordered.filter((result) => result.status === 'duplicate').length,
      refused: ordered.filter((result) => result.status === 'refused').length,
      flagged: ordered.filter((result) => result.status === 'refused' && result.flag !== null)
        .length,
    }
  }

  private async shops(checked: Checked[]): Promise<Map<string, ShopRow>> {
    const ids = [...new Set(checked.map((entry) => entry.input.shop.toUpperCase()))]
    if (ids.length === 0) return new Map()
    const rows = await db
      .from('shops')
      .join('merchants', 'merchants.id', 'shops.merchant_id')
      .whereIn('shops.public_id', ids)
      .select(
        'shops.id',
        'shops.public_id',
        'shops.merchant_id',
        'shops.category as shop_category',
        'merchants.category as merchant_category'
      )
    return new Map(
      rows.map((row) => [
        row.public_id,
        {
          id: Number(row.id),
          publicId: row.public_id,
          merchantId: Number(row.merchant_id),
          category: row.shop_category ?? row.merchant_category ?? null,
        },
      ])
    )
  }

  private async cardHolders(checked: Checked[]) {
    const numbers = [...new Set(checked.map((entry) => entry.input.cardNo))]
    const holders = new Map<string, { cardId: number; personId: number }>()
    for (let start = 0; start < numbers.length; start += 500) {
      const rows = await db
        .from('cards')
        .whereIn('card_no', numbers.slice(start, start + 500))
        .select('id', 'card_no', 'person_id')
      for (const row of rows)
        holders.set(row.card_no, { cardId: Number(row.id), personId: Number(row.person_id) })
    }
    return holders
  }

  private async bookChunk(
    trx: TransactionClientContract,
    batch: OfflineBatch,
    chunk: Checked[],
    shops: Map<string, ShopRow>,
    people: Map<string, Holder>,
    now: number
  ) {
    const results: OfflineRecordResult[] = []
    const replays: { cardNo: string; codeId: string }[] = []
    const sql = await sqlStatements(trx)
    const uploadedAt = dbTimeOfMillis(now * 1000, sql.dialect)
    // The first statement writes (on SQLite it takes the write lock): each
    // row the insert adds is a record seen for the first time.
    const fresh = new Map<number, { id: number; publicId: string }>()
    for (const group of inGroups(chunk)) {
      const inserted = await sql.all<{ sequence: unknown; id: unknown; public_id: string }>(
        `INSERT INTO offline_payment_records (public_id, terminal_id, sequence, content_hash,
           card_no, shop_public_id, amount, recorded_at, uploaded_at, status, refusal)
         VALUES ${group.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'refused', 'not_booked')").join(', ')}
         ON CONFLICT (terminal_id, sequence) DO NOTHING RETURNING id, sequence, public_id`,
        group.flatMap((entry) => [
          newPublicId(),
          batch.terminalId,
          entry.input.sequence,
          entry.hash,
          entry.input.cardNo,
          entry.input.shop.toUpperCase(),
          entry.input.amount,
          dbTimeOfMillis(entry.input.recordedAt * 1000, sql.dialect),
          uploadedAt,
        ])
      )
      for (const row of inserted)
        fresh.set(Number(row.sequence), { id: Number(row.id), publicId: row.public_id })
    }
    const duplicates = chunk.filter((entry) => !fresh.has(entry.input.sequence))
    if (duplicates.length > 0) results.push(...(await this.duplicates(trx, batch, duplicates)))

    const pending: Pending[] = []
    const outcomes = new Map<Pending, BookOneOutcome>()
    for (const entry of chunk) {
      const row = fresh.get(entry.input.sequence)
      if (!row) continue
      const item = { entry, row, shop: null, holder: null } as Pending
      const refusal = this.precheck(batch, item, shops, people)
      if (refusal) outcomes.set(item, refusal)
      pending.push(item)
    }
    const claimed = await this.claimCodes(
      sql,
      batch,
      pending.filter((item) => !outcomes.has(item))
    )
    for (const item of pending)
      if (!outcomes.has(item) && !claimed.has(item))
        outcomes.set(item, { status: 'refused', refusal: 'code_replayed', flag: 'replayed_code' })
    await this.book(trx, sql, batch, [...claimed], outcomes)
    await this.recordOutcomes(trx, sql, batch, pending, outcomes, people, results, replays)
    return { results, replays }
  }

  /** What the first upload of each record already in the book ended as. */
  private async duplicates(
    trx: TransactionClientContract,
    batch: OfflineBatch,
    duplicates: Checked[]
  ): Promise<OfflineRecordResult[]> {
    const earlier = await trx
      .from('offline_payment_records')
      .leftJoin('ledger_transfers', 'ledger_transfers.id', 'offline_payment_records.transfer_id')
      .where('offline_payment_records.terminal_id', batch.terminalId)
      .whereIn(
        'offline_payment_records.sequence',
        duplicates.map((entry) => entry.input.sequence)
      )
      .select(
        'offline_payment_records.sequence',
        'offline_payment_records.public_id',
        'offline_payment_records.content_hash',
        'offline_payment_records.status',
        'offline_payment_records.refusal',
        'ledger_transfers.public_id as transfer'
      )
    const bySequence = new Map(earlier.map((row) => [Number(row.sequence), row]))
    return duplicates.map((entry): OfflineRecordResult => {
      const row = bySequence.get(entry.input.sequence)!
      return row.content_hash === entry.hash
        ? {
            sequence: entry.input.sequence,
            status: 'duplicate',
            record: row.public_id,
            first: row.status,
            transfer: row.transfer ?? null,
            refusal: row.refusal ?? null,
          }
        : {
            sequence: entry.input.sequence,
            status: 'refused',
            record: row.public_id,
            refusal: 'sequence_conflict',
            flag: null,
          }
    })
  }

  /** The refusals that need nothing from the database; fills in the shop and the holder. */
  private precheck(
    batch: OfflineBatch,
    item: Pending,
    shops: Map<string, ShopRow>,
    people: Map<string, Holder>
  ): BookOneOutcome | null {
    const { entry } = item
    if (entry.refusal) return { status: 'refused', ...entry.refusal }
    const shopId = entry.input.shop.toUpperCase()
    const shop = shops.get(shopId)
    if (!shop) return { status: 'refused', refusal: 'shop_not_found', flag: null }
    if (batch.terminalShop && batch.terminalShop.toUpperCase() !== shopId)
      return { status: 'refused', refusal: 'wrong_shop', flag: 'wrong_shop' }
    const holder = people.get(entry.input.cardNo)
    if (!holder) return { status: 'refused', refusal: 'unknown_card', flag: null }
    item.shop = shop
    item.holder = holder
    return null
  }

  /**
   * One-time use, for the whole chunk: a code that a record of any terminal
   * booked, or that the server's seen-code store holds (accepted online, or
   * by a record uploaded while the store still remembers it), is a replay;
   * so is a code a record earlier in the chunk carries. The others are
   * claimed in the store, in upload order.
   */
  private async claimCodes(sql: SqlStatements, batch: OfflineBatch, items: Pending[]) {
    const codeIds = [...new Set(items.map((item) => item.entry.verified!.codeId))]
    const bookedBefore = new Set<string>()
    for (const group of inGroups(codeIds)) {
      const rows = await sql.all<{ code_id: string }>(
        `SELECT code_id FROM offline_payment_records
         WHERE status = 'booked' AND code_id IN (${group.map(() => '?').join(', ')})`,
        group
      )
      for (const row of rows) bookedBefore.add(row.code_id)
    }
    const first = new Map<string, Pending>()
    for (const item of items) {
      const codeId = item.entry.verified!.codeId
      if (!bookedBefore.has(codeId) && !first.has(codeId)) first.set(codeId, item)
    }
    const claimed = new Set<Pending>()
    for (const group of inGroups([...first.values()])) {
      const rows = await sql.all<{ code_id: string }>(
        `INSERT INTO card_seen_codes (code_id, card_id, card_no, first_seen_at, first_seen_by, expires_at)
         VALUES ${group.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (code_id) DO NOTHING RETURNING code_id`,
        group.flatMap((item) => {
          const verified = item.entry.verified!
          return [
            verified.codeId,
            item.holder!.cardId,
            verified.cardNo,
            dbTimeOfMillis(item.entry.input.recordedAt * 1000, sql.dialect),
            batch.terminalId.slice(0, 100),
            dbTimeOfMillis(verified.acceptUntil * 1000, sql.dialect),
          ]
        })
      )
      for (const row of rows) claimed.add(first.get(row.code_id)!)
    }
    // Upload order, whatever order the database answered in.
    return new Set(items.filter((item) => claimed.has(item)))
  }

  /**
   * Books the claimed records in upload order. Those the holder's cash pays
   * in full are staged over accounts read and locked together and written a
   * few statements at a time (plain_transfers.ts, ADR 0013); a record the
   * general path must book (subsidy or voucher money, a shortfall, a
   * merchant's first payment) first writes what is staged; that holder's
   * wallets and that merchant's account are read again after it.
   */
  private async book(
    trx: TransactionClientContract,
    sql: SqlStatements,
    batch: OfflineBatch,
    claimed: Pending[],
    outcomes: Map<Pending, BookOneOutcome>
  ) {
    if (claimed.length === 0) return
    const system = {
      advanceFund: await systemAccount('advance_fund', trx),
      control: await systemAccount('arrears_control', trx),
    }
    const { spendingOrder } = await walletSettings(trx)
    const locked = await lockAccounts(
      sql,
      claimed.map((item) => item.holder!.personId),
      claimed.map((item) => item.shop!.merchantId)
    )
    let staged: { item: Pending; transfer: StagedTransfer }[] = []
    const unclaim: string[] = []
    const flush = async () => {
      if (staged.length === 0) return
      const booked = await writeStagedTransfers(
        sql,
        staged.map((entry) => entry.transfer),
        locked.byId
      )
      await this.paymentRows(
        sql,
        staged.map((entry, index) => ({ item: entry.item, transfer: booked[index] }))
      )
      for (const [index, { item }] of staged.entries())
        outcomes.set(item, bookedOutcome(item, booked[index], item.entry.input.amount, 0))
      staged = []
    }
    for (const item of claimed) {
      const record = item.entry.input
      const plan = cashOnlyPlanOf(
        locked.wallets.get(item.holder!.personId) ?? [],
        record.amount,
        spendingOrder
      )
      const merchant = locked.merchants.get(item.shop!.merchantId)
      if (plan && plan.shortfall === 0 && merchant) {
        const transfer = stageLockedTransfer(
          {
            idempotencyKey: idempotencyKeyOf(batch, record),
            kind: 'payment',
            postings: [
              { account: plan.wallet.id, amount: -record.amount },
              { account: merchant.id, amount: record.amount },
            ],
            metadata: metadataOf(batch, item),
            actor: batch.actor,
          },
          locked.byId
        )
        if (transfer.ok) {
          staged.push({ item, transfer: transfer.value })
        } else {
          // The claim goes with the refusal: the code was not used.
          unclaim.push(item.entry.verified!.codeId)
          outcomes.set(item, {
            status: 'refused',
            refusal: 'not_booked',
            flag: null,
            detail: transfer.error,
          })
        }
        continue
      }
      await flush()
      const outcome = await this.bookGeneral(trx, sql, batch, item, system)
      if (outcome.status === 'refused') unclaim.push(item.entry.verified!.codeId)
      outcomes.set(item, outcome)
      // The general path wrote (or made) this holder's wallets and this
      // merchant's account: read them again. Other accounts it writes
      // (arrears, advance fund) are not staged over.
      await relockAccounts(sql, locked, item.holder!.personId, item.shop!.merchantId)
    }
    await flush()
    for (const group of inGroups(unclaim))
      await sql.run(
        `DELETE FROM card_seen_codes WHERE code_id IN (${group.map(() => '?').join(', ')})`,
        group
      )
  }

  /** A record the general planner pays: subsidies, vouchers, the advance fund for a shortfall. */
  private async bookGeneral(
    trx: TransactionClientContract,
    sql: SqlStatements,
    batch: OfflineBatch,
    item: Pending,
    system: { advanceFund: { id: number }; control: { id: number } }
  ): Promise<BookOneOutcome> {
    const record = item.entry.input
    const shop = item.shop!
    const holder = item.holder!
    const plan = await planSpending(trx, {
      personId: holder.personId,
      amount: record.amount,
      merchantCategory: shop.category,
      merchantId: shop.merchantId,
      shopId: shop.id,
      at: DateTime.fromSeconds(record.recordedAt, { zone: 'utc' }),
    })
    const merchant = await merchantAccount(shop.merchantId, trx)
    const postings: PostingInput[] = plan.legs.map((leg) => ({
      account: leg.account,
      amount: -leg.amount,
    }))
    postings.push({ account: merchant, amount: record.amount })
    if (plan.shortfall > 0) {
      const arrears = await arrearsAccountFor(holder.personId, trx)
      postings.push(...advancePostings({ ...system, arrears }, plan.shortfall))
    }
    const booked = await new PostTransfer().handle(
      {
        idempotencyKey: idempotencyKeyOf(batch, record),
        kind: 'payment',
        postings,
        metadata: metadataOf(batch, item),
        actor: batch.actor,
        audit: false,
      },
      trx
    )
    if (!booked.ok)
      return { status: 'refused', refusal: 'not_booked', flag: null, detail: booked.error }
    // Subsidy lots and meal vouchers the payment drew on (ADR 0011).
    await recordSpending(trx, plan, booked.value)
    await this.paymentRows(sql, [{ item, transfer: booked.value }])
    return bookedOutcome(item, booked.value, plan.covered, plan.shortfall)
  }

  /** The payment rows of booked records (the merchant's sales, the holder's spending). */
  private async paymentRows(
    sql: SqlStatements,
    booked: { item: Pending; transfer: { id: number } }[]
  ) {
    await insertMerchantPayments(
      sql,
      booked.map(({ item, transfer }) => ({
        transferId: transfer.id,
        merchantId: item.shop!.merchantId,
        shopId: item.shop!.id,
        personId: item.holder!.personId,
        cardId: item.holder!.cardId,
        channel: 'campus_code',
        amount: item.entry.input.amount,
        paidAtMs: item.entry.input.recordedAt * 1000,
      }))
    )
  }

  /** Each record's row as it ended, and its result; flagged refusals audited. */
  private async recordOutcomes(
    trx: TransactionClientContract,
    sql: SqlStatements,
    batch: OfflineBatch,
    pending: Pending[],
    outcomes: Map<Pending, BookOneOutcome>,
    people: Map<string, Holder>,
    results: OfflineRecordResult[],
    replays: { cardNo: string; codeId: string }[]
  ) {
    const booked = pending.filter((item) => outcomes.get(item)!.status === 'booked')
    for (const group of inGroups(booked)) {
      await sql.run(
        `UPDATE offline_payment_records SET status = 'booked', refusal = NULL,
           code_id = v.column2, person_id = v.column3, shop_id = v.column4,
           transfer_id = v.column5, covered = v.column6, advanced = v.column7
         FROM (VALUES ${group
           .map(
             () =>
               '(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))'
           )
           .join(', ')}) AS v
         WHERE offline_payment_records.id = v.column1`,
        group.flatMap((item) => {
          const outcome = outcomes.get(item) as Extract<BookOneOutcome, { status: 'booked' }>
          return [
            item.row.id,
            item.entry.verified!.codeId,
            outcome.personId,
            outcome.shopId,
            outcome.transferId,
            outcome.covered,
            outcome.advanced,
          ]
        })
      )
    }
    for (const item of pending) {
      const { entry, row } = item
      const outcome = outcomes.get(item)!
      if (outcome.status === 'booked') {
        results.push({
          sequence: entry.input.sequence,
          status: 'booked',
          record: row.publicId,
          transfer: outcome.transfer,
          covered: outcome.covered,
          advanced: outcome.advanced,
        })
        continue
      }
      await trx
        .from('offline_payment_records')
        .where('id', row.id)
        .update({
          refusal: outcome.refusal,
          flag: outcome.flag,
          code_id: entry.verified?.codeId ?? null,
          person_id: people.get(entry.input.cardNo)?.personId ?? null,
        })
      if (outcome.refusal === 'code_replayed' && entry.verified)
        replays.push({ cardNo: entry.verified.cardNo, codeId: entry.verified.codeId })
      if (outcome.flag) {
        await recordAudit(
          batch.actor,
          {
            action: 'ledger.offline_record_flagged',
            subjectType: 'offline_payment_record',
            subjectId: row.publicId,
            outcome: 'denied',
            meta: {
              terminal: batch.terminalId,
              sequence: entry.input.sequence,
              refusal: outcome.refusal,
              flag: outcome.flag,
              detail: outcome.detail ?? null,
              cardNo: entry.input.cardNo,
              amount: entry.input.amount,
            },
          },
          trx
        )
      }
      results.push({
        sequence: entry.input.sequence,
        status: 'refused',
        record: row.publicId,
        refusal: outcome.refusal,
        flag: outcome.flag,
        ...(outcome.detail ? { detail: outcome.detail } : {}),
      })
    }
  }
}

function idempotencyKeyOf(batch: OfflineBatch, record: OfflineRecordInput) {
  return `offline:${batch.terminalId}:${record.sequence}`
}

function metadataOf(batch: OfflineBatch, item: Pending) {
  const record = item.entry.input
  return {
    channel: 'offline',
    terminal: batch.terminalId,
    sequence: record.sequence,
    shop: item.shop!.publicId,
    card: record.cardNo,
    code: item.entry.verified!.codeId,
    recordedAt: record.recordedAt,
  }
}

function bookedOutcome(
  item: Pending,
  transfer: { id: number; publicId: string },
  covered: number,
  advanced: number
): BookOneOutcome {
  return {
    status: 'booked',
    transfer: transfer.publicId,
    transferId: transfer.id,
    personId: item.holder!.personId,
    shopId: item.shop!.id,
    covered,
    advanced,
  }
}
