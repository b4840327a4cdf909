import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import { verifyCode, type VerifiedCode, type VerifyError } from '#cards/campus_code/verify'
import { issuerKeyRing } from '#cards/services/issuer_signing'
import { recordReplay, replayFreezePolicy } from '#cards/services/replay_store'
import {
  arrearsAccountFor,
  dbTime,
  merchantAccount,
  systemAccount,
} from '#ledger/services/accounts'
import { advancePostings } from '#ledger/services/arrears'
import { canonicalJson } from '#ledger/services/requests'
import { planSpending, recordSpending } from '#ledger/services/spending'
import { PostTransfer, type PostingInput } from '#ledger/actions/post_transfer'
import { sqlStatements, type SqlStatements } from '#core/services/sql_statements'
import { dbTimeOfMillis } from '#cards/services/db_time'
import {
  ACCOUNT_COLUMNS,
  accountOf,
  cashOnlyPlan,
  forUpdate,
  writeLockedTransfer,
  type AccountRow,
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
const CHUNK = 100
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

/** Plain statements of a chunk's transaction, and the merchant accounts it has locked and read. */
interface LeanBooking {
  sql: SqlStatements
  merchants: Map<number, AccountRow>
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
    people: Map<string, { cardId: number; personId: number }>,
    now: number
  ) {
    const results: OfflineRecordResult[] = []
    const replays: { cardNo: string; codeId: string }[] = []
    const uploadedAt = dbTime(trx, DateTime.fromSeconds(now, { zone: 'utc' }))
    const rows = chunk.map((entry) => ({
      public_id: newPublicId(),
      terminal_id: batch.terminalId,
      sequence: entry.input.sequence,
      content_hash: entry.hash,
      card_no: entry.input.cardNo,
      code_id: null,
      person_id: null,
      shop_public_id: entry.input.shop.toUpperCase(),
      shop_id: null,
      amount: entry.input.amount,
      recorded_at: dbTime(trx, DateTime.fromSeconds(entry.input.recordedAt, { zone: 'utc' })),
      uploaded_at: uploadedAt,
      status: 'refused',
      refusal: 'not_booked',
    }))
    // The first statement writes (on SQLite it takes the write lock): each
    // row the insert adds is a record seen for the first time.
    const inserted: { sequence: unknown; id: unknown; public_id: string }[] = await trx
      .knexQuery()
      .table('offline_payment_records')
      .insert(rows)
      .onConflict(['terminal_id', 'sequence'])
      .ignore()
      .returning(['id', 'sequence', 'public_id'])
    const fresh = new Map(
      inserted.map((row) => [Number(row.sequence), { id: Number(row.id), publicId: row.public_id }])
    )
    const duplicates = chunk.filter((entry) => !fresh.has(entry.input.sequence))
    if (duplicates.length > 0) {
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
      for (const entry of duplicates) {
        const row = bySequence.get(entry.input.sequence)!
        results.push(
          row.content_hash === entry.hash
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
        )
      }
    }

    const advanceFund = await systemAccount('advance_fund', trx)
    const control = await systemAccount('arrears_control', trx)
    const lean: LeanBooking = { sql: await sqlStatements(trx), merchants: new Map() }
    for (const entry of chunk) {
      const row = fresh.get(entry.input.sequence)
      if (!row) continue
      const outcome = await this.bookOne(trx, lean, batch, entry, shops, people, {
        advanceFund,
        control,
      })
      if (outcome.status === 'booked') {
        await lean.sql.run(
          `UPDATE offline_payment_records SET status = 'booked', refusal = NULL, code_id = ?,
             person_id = ?, shop_id = ?, transfer_id = ?, covered = ?, advanced = ?
           WHERE id = ?`,
          [
            entry.verified!.codeId,
            outcome.personId,
            outcome.shopId,
            outcome.transferId,
            outcome.covered,
            outcome.advanced,
            row.id,
          ]
        )
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
    return { results, replays }
  }

  /**
   * A record that the holder's cash pays in full, in plain statements
   * (plain_transfers.ts, ADR 0013); null when the general path must book it
   * (subsidy or voucher money, a shortfall, a merchant's first payment).
   */
  private async bookCashOnly(
    trx: TransactionClientContract,
    lean: LeanBooking,
    batch: OfflineBatch,
    entry: Checked,
    shop: ShopRow,
    holder: { cardId: number; personId: number },
    metadata: Record<string, unknown>
  ): Promise<BookOneOutcome | null> {
    const { sql } = lean
    const record = entry.input
    const plan = await cashOnlyPlan({ trx, sql }, record.amount, holder.personId)
    if (!plan || plan.shortfall > 0) return null
    let merchant = lean.merchants.get(shop.merchantId)
    if (!merchant) {
      const row = await sql.get(
        `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE kind = 'merchant' AND merchant_id = ?${forUpdate(sql)}`,
        [shop.merchantId]
      )
      if (!row) return null
      merchant = accountOf(row)
      lean.merchants.set(shop.merchantId, merchant)
    }
    const booked = await writeLockedTransfer(
      sql,
      {
        idempotencyKey: `offline:${batch.terminalId}:${record.sequence}`,
        kind: 'payment',
        postings: [
          { account: plan.wallet.id, amount: -record.amount },
          { account: merchant.id, amount: record.amount },
        ],
        metadata,
        actor: batch.actor,
      },
      new Map([
        [plan.wallet.id, plan.wallet],
        [merchant.id, merchant],
      ])
    )
    if (!booked.ok) {
      // The claim goes with the refusal: the code was not used.
      await sql.run('DELETE FROM card_seen_codes WHERE code_id = ?', [entry.verified!.codeId])
      return { status: 'refused', refusal: 'not_booked', flag: null, detail: booked.error }
    }
    return this.paymentRow(sql, booked.value, shop, holder, record, {
      covered: record.amount,
      advanced: 0,
    })
  }

  /** The payment row of a booked record, and the record's outcome. */
  private async paymentRow(
    sql: SqlStatements,
    transfer: { id: number; publicId: string },
    shop: ShopRow,
    holder: { cardId: number; personId: number },
    record: OfflineRecordInput,
    split: { covered: number; advanced: number }
  ): Promise<BookOneOutcome> {
    await sql.run(
      `INSERT INTO merchant_payments (public_id, transfer_id, merchant_id, shop_id, person_id,
         card_id, channel, amount, refunded, paid_at)
       VALUES (?, ?, ?, ?, ?, ?, 'campus_code', ?, 0, ?)`,
      [
        newPublicId(),
        transfer.id,
        shop.merchantId,
        shop.id,
        holder.personId,
        holder.cardId,
        record.amount,
        dbTimeOfMillis(record.recordedAt * 1000, sql.dialect),
      ]
    )
    return {
      status: 'booked',
      transfer: transfer.publicId,
      transferId: transfer.id,
      personId: holder.personId,
      shopId: shop.id,
      ...split,
    }
  }

  private async bookOne(
    trx: TransactionClientContract,
    lean: LeanBooking,
    batch: OfflineBatch,
    entry: Checked,
    shops: Map<string, ShopRow>,
    people: Map<string, { cardId: number; personId: number }>,
    system: { advanceFund: { id: number }; control: { id: number } }
  ): Promise<BookOneOutcome> {
    if (entry.refusal) return { status: 'refused', ...entry.refusal }
    const record = entry.input
    const verified = entry.verified!
    const shopId = record.shop.toUpperCase()
    const shop = shops.get(shopId)
    if (!shop) return { status: 'refused', refusal: 'shop_not_found', flag: null }
    if (batch.terminalShop && batch.terminalShop.toUpperCase() !== shopId)
      return { status: 'refused', refusal: 'wrong_shop', flag: 'wrong_shop' }
    const holder = people.get(record.cardNo)
    if (!holder) return { status: 'refused', refusal: 'unknown_card', flag: null }

    // One-time use: a record of any terminal that booked this code, or the
    // server's seen-code store (a code accepted online, or by a record
    // uploaded while the store still remembers it).
    const bookedBefore = await lean.sql.get(
      `SELECT id FROM offline_payment_records WHERE code_id = ? AND status = 'booked'`,
      [verified.codeId]
    )
    const claimed = bookedBefore
      ? 0
      : await lean.sql.run(
          `INSERT INTO card_seen_codes (code_id, card_id, card_no, first_seen_at, first_seen_by, expires_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code_id) DO NOTHING`,
          [
            verified.codeId,
            holder.cardId,
            verified.cardNo,
            dbTimeOfMillis(record.recordedAt * 1000, lean.sql.dialect),
            batch.terminalId.slice(0, 100),
            dbTimeOfMillis(verified.acceptUntil * 1000, lean.sql.dialect),
          ]
        )
    if (claimed === 0) return { status: 'refused', refusal: 'code_replayed', flag: 'replayed_code' }

    const metadata = {
      channel: 'offline',
      terminal: batch.terminalId,
      sequence: record.sequence,
      shop: shop.publicId,
      card: record.cardNo,
      code: verified.codeId,
      recordedAt: record.recordedAt,
    }
    const cashOnly = await this.bookCashOnly(trx, lean, batch, entry, shop, holder, metadata)
    if (cashOnly) return cashOnly
    // The general path below writes accounts the cache may hold: read them again afterwards.
    lean.merchants.clear()

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
        idempotencyKey: `offline:${batch.terminalId}:${record.sequence}`,
        kind: 'payment',
        postings,
        metadata,
        actor: batch.actor,
        audit: false,
      },
      trx
    )
    if (!booked.ok) {
      // The claim goes with the refusal: the code was not used.
      await trx.from('card_seen_codes').where('code_id', verified.codeId).delete()
      return { status: 'refused', refusal: 'not_booked', flag: null, detail: booked.error }
    }
    // Subsidy lots and meal vouchers the payment drew on (ADR 0011).
    await recordSpending(trx, plan, booked.value)
    return this.paymentRow(lean.sql, booked.value, shop, holder, record, {
      covered: plan.covered,
      advanced: plan.shortfall,
    })
  }
}
