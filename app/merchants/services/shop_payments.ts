/**
 * What every way of paying at a shop shares (docs/merchants.md): finding the
 * shop and its merchant, checking the amount, and booking the payment in one
 * database transaction — the wallets the spending plan names are debited,
 * the merchant's account credited, and a merchant_payments row written —
 * under the holder's limits and the request's idempotency key.
 */
import { type DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import { rawRows, type SqlStatements } from '#core/services/sql_statements'
import { fail, ok, type Result } from '#core/services/result'
import { schoolTimeZone } from '#appliance/services/school_settings'
import {
  loadBookedTransfer,
  PostTransfer,
  type BookedTransfer,
  type PostTransferError,
} from '#ledger/actions/post_transfer'
import { WALLET_KINDS, type WalletKind } from '#ledger/services/account_kinds'
import { dbTime, merchantAccount } from '#ledger/services/accounts'
import { fenFromDb } from '#ledger/services/money'
import { inGroups } from '#ledger/services/plain_transfers'
import { dbTimeOfMillis } from '#cards/services/db_time'
import { IDEMPOTENCY_KEY } from '#ledger/services/requests'
import { planSpending, recordSpending } from '#ledger/services/spending'
import type { PaymentChannel } from '#merchants/models/merchant_payment'
import type { MerchantCategory } from '#merchants/services/categories'
import { MAX_PAYMENT_AMOUNT } from '#merchants/services/payment_settings'

/** A shop as a payment needs it, with its merchant. */
export interface Payee {
  shopId: number
  shopPublicId: string
  shopName: string
  shopEnabled: boolean
  merchantId: number
  merchantPublicId: string
  merchantName: string
  merchantEnabled: boolean
  /** The shop's own category, or its merchant's. */
  category: MerchantCategory
}

export type PayeeError = 'shop_not_found' | 'shop_disabled' | 'merchant_disabled'

export type AmountError = 'invalid_amount' | 'amount_out_of_range'

/** The shop and merchant columns a payment needs; a WHERE on `shops` follows. */
export const PAYEE_COLUMNS = `shops.id, shops.public_id, shops.name, shops.status, shops.category,
  merchants.id AS merchant_id, merchants.public_id AS merchant_public_id, merchants.name AS merchant_name,
  merchants.status AS merchant_status, merchants.category AS merchant_category`

export const PAYEE_SELECT = `SELECT ${PAYEE_COLUMNS}
  FROM shops JOIN merchants ON merchants.id = shops.merchant_id`

/** A shop's public id as requests carry it (26 characters), upper-cased; null when it cannot be one. */
export function shopPublicIdOf(publicId: unknown): string | null {
  return typeof publicId === 'string' && /^[0-9A-Za-z]{26}$/.test(publicId)
    ? publicId.toUpperCase()
    : null
}

/** The payee of a row read with PAYEE_SELECT, or why it cannot be paid. */
export function payeeFromRow(row: Record<string, any> | undefined): Result<Payee, PayeeError> {
  if (!row) return fail('shop_not_found')
  const payee: Payee = {
    shopId: Number(row.id),
    shopPublicId: row.public_id,
    shopName: row.name,
    shopEnabled: row.status === 'enabled',
    merchantId: Number(row.merchant_id),
    merchantPublicId: row.merchant_public_id,
    merchantName: row.merchant_name,
    merchantEnabled: row.merchant_status === 'enabled',
    category: row.category ?? row.merchant_category,
  }
  if (!payee.merchantEnabled) return fail('merchant_disabled', { shop: payee.shopPublicId })
  if (!payee.shopEnabled) return fail('shop_disabled', { shop: payee.shopPublicId })
  return ok(payee)
}

/** A shop by public id or by its static merchant-code token, ready to be paid. */
export async function findPayee(
  by: { publicId: string } | { codeToken: string },
  client: QueryClientContract = db.connection()
): Promise<Result<Payee, PayeeError>> {
  let where: string
  let value: string
  if ('publicId' in by) {
    const publicId = shopPublicIdOf(by.publicId)
    if (!publicId) return fail('shop_not_found')
    where = 'shops.public_id = ?'
    value = publicId
  } else {
    if (typeof by.codeToken !== 'string' || !/^[\w-]{16,40}$/.test(by.codeToken))
      return fail('shop_not_found')
    where = 'shops.code_token = ?'
    value = by.codeToken
  }
  const [row] = await rawRows(client, `${PAYEE_SELECT} WHERE ${where}`, [value])
  return payeeFromRow(row)
}

/**
 * An amount of fen as a request carries it: a number that is a whole number
 * of fen (not a string, not 12.5), at least 1 fen and at most
 * MAX_PAYMENT_AMOUNT. Limits are checked afterwards, against the settings.
 */
export function checkPaymentAmount(amount: unknown): Result<number, AmountError> {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || !Number.isInteger(amount))
    return fail('invalid_amount')
  if (amount < 1 || amount > MAX_PAYMENT_AMOUNT) return fail('amount_out_of_range')
  return ok(amount)
}

export function checkIdempotencyKey(key: unknown): key is string {
  return typeof key === 'string' && IDEMPOTENCY_KEY.test(key)
}

/** A payment as booked: the transfer, the payment row and the legs. */
export interface BookedShopPayment {
  transfer: BookedTransfer
  payment: { publicId: string; channel: PaymentChannel; amount: number; refunded: number }
  legs: { wallet: WalletKind; amount: number }[]
  /** The holder's wallets together, after the payment (fen). */
  balanceAfter: number
}

export type BookingError =
  PostTransferError | 'insufficient_funds' | 'over_daily_limit' | 'idempotency_conflict'

export interface ShopPaymentRequest {
  personId: number
  cardId: number | null
  payee: Payee
  amount: number
  channel: PaymentChannel
  idempotencyKey: string
  actor: AuditActor
  /** When the purchase happened: its day is the day whose limit counts it. */
  at: DateTime
  /** The most this holder may pay through this channel in a day, this payment included. */
  maxPerDay: number
  /** Facts kept with the transfer (card number, code id…). */
  metadata?: Record<string, unknown>
  /** Audit the payment (a holder's own payment in the portal); terminals' payments are not. */
  audit?: boolean
}

const WALLET_KIND_NAMES = Object.values(WALLET_KINDS) as string[]
const walletOfKind = Object.fromEntries(
  Object.entries(WALLET_KINDS).map(([wallet, kind]) => [kind, wallet as WalletKind])
) as Record<string, WalletKind>

/** The holder's wallets together, as this client sees them. */
async function walletsTotal(client: QueryClientContract, personId: number): Promise<number> {
  const row = await client
    .from('ledger_accounts')
    .where('person_id', personId)
    .whereIn('kind', WALLET_KIND_NAMES)
    .sum('balance as total')
    .first()
  return fenFromDb(row?.total ?? 0)
}

/**
 * The payment booked under this key before, or a conflict if the key was
 * used for something else; null when the key is new. Lets a retry (a
 * terminal that lost the answer, a form sent twice) get the first answer
 * without presenting its campus code again, which would be a replay.
 */
export async function paymentUnderKey(
  key: string,
  expect: { shopId: number; amount: number; channel: PaymentChannel },
  client: QueryClientContract = db.connection()
): Promise<Result<BookedShopPayment, 'idempotency_conflict'> | null> {
  const row = await client
    .from('ledger_transfers')
    .leftJoin('merchant_payments', 'merchant_payments.transfer_id', 'ledger_transfers.id')
    .where('ledger_transfers.idempotency_key', key)
    .select(
      'ledger_transfers.id',
      'ledger_transfers.public_id',
      'merchant_payments.public_id as payment_public_id',
      'merchant_payments.shop_id',
      'merchant_payments.person_id',
      'merchant_payments.channel',
      'merchant_payments.amount',
      'merchant_payments.refunded'
    )
    .first()
  if (!row) return null
  if (
    !row.payment_public_id ||
    Number(row.shop_id) !== expect.shopId ||
    fenFromDb(row.amount) !== expect.amount ||
    row.channel !== expect.channel
  )
    return fail('idempotency_conflict', { transfer: row.public_id })
  const transfer = await loadBookedTransfer(client, Number(row.id), true)
  return ok(await describeBooked(client, transfer, Number(row.person_id), row))
}

async function describeBooked(
  client: QueryClientContract,
  transfer: BookedTransfer,
  personId: number,
  payment: {
    payment_public_id: string
    channel: PaymentChannel
    amount: unknown
    refunded: unknown
  }
): Promise<BookedShopPayment> {
  const debits = transfer.postings.filter((posting) => posting.amount < 0)
  const accounts = debits.length
    ? await client
        .from('ledger_accounts')
        .whereIn(
          'id',
          debits.map((posting) => posting.accountId)
        )
        .select('id', 'kind')
    : []
  const kindOf = new Map(accounts.map((account) => [Number(account.id), account.kind]))
  return {
    transfer,
    payment: {
      publicId: payment.payment_public_id,
      channel: payment.channel,
      amount: fenFromDb(payment.amount),
      refunded: fenFromDb(payment.refunded),
    },
    legs: debits.map((posting) => ({
      wallet: walletOfKind[kindOf.get(posting.accountId) ?? 'wallet_cash'] ?? 'cash',
      amount: -posting.amount,
    })),
    balanceAfter: await walletsTotal(client, personId),
  }
}

/** The last day dayStartOf computed: most payments fall in the same day as the one before. */
let lastDay: { zone: string; start: DateTime; startMs: number; endMs: number } | null = null

/** The start of the school's day that `at` falls in, in UTC. */
export function dayStartOf(at: DateTime): DateTime {
  const zone = schoolTimeZone()
  const ms = at.toMillis()
  if (lastDay && lastDay.zone === zone && ms >= lastDay.startMs && ms < lastDay.endMs)
    return lastDay.start
  const local = at.setZone(zone).startOf('day')
  const start = local.toUTC()
  lastDay = { zone, start, startMs: start.toMillis(), endMs: local.plus({ days: 1 }).toMillis() }
  return start
}

/** What the holder paid through the channel since the start of the day of `at`. */
export async function spentToday(
  client: QueryClientContract,
  personId: number,
  channel: PaymentChannel,
  at: DateTime
): Promise<number> {
  const row = await client
    .from('merchant_payments')
    .where('person_id', personId)
    .where('channel', channel)
    .where('paid_at', '>=', dbTime(client, dayStartOf(at)))
    .sum('amount as total')
    .first()
  return fenFromDb(row?.total ?? 0)
}

/**
 * On SQLite, a transaction's first statement is a write, so that it holds
 * the write lock before it reads (PostTransfer's note): the update matches
 * no row but takes the lock.
 */
export async function takeWriteLock(trx: TransactionClientContract) {
  if (trx.dialect.name === 'postgres') return
  await trx.from('merchant_payments').where('id', -1).update({ refunded: 0 })
}

/** A refusal thrown out of a booking transaction, so that it rolls back; caught and answered. */
export class Refusal {
  constructor(
    readonly failure: { ok: false; error: BookingError; details?: Record<string, unknown> }
  ) {}
}

/**
 * Books a payment at a shop in one transaction: the spending plan (which
 * locks the holder's wallets on PostgreSQL, so that the day's total read
 * after it holds), the day's limit, the transfer and the payment row.
 * Nothing is written when it is refused.
 */
export async function bookShopPayment(
  request: ShopPaymentRequest
): Promise<Result<BookedShopPayment, BookingError>> {
  try {
    return await db.transaction(async (trx) => {
      await takeWriteLock(trx)
      return bookShopPaymentIn(trx, request)
    })
  } catch (error) {
    if (error instanceof Refusal) return error.failure
    throw error
  }
}

/**
 * bookShopPayment inside the caller's transaction (which on SQLite already
 * holds the write lock). A refusal is thrown as a Refusal, for the caller to
 * roll back what it wrote and answer it.
 */
export async function bookShopPaymentIn(
  trx: TransactionClientContract,
  request: ShopPaymentRequest
): Promise<Result<BookedShopPayment, BookingError>> {
  const { payee, amount } = request
  const plan = await planSpending(trx, {
    personId: request.personId,
    amount,
    merchantCategory: payee.category,
    merchantId: payee.merchantId,
    shopId: payee.shopId,
    at: request.at,
  })
  if (plan.shortfall > 0 || plan.covered !== amount)
    throw new Refusal(fail('insufficient_funds', { available: plan.covered, requested: amount }))
  const spent = await spentToday(trx, request.personId, request.channel, request.at)
  if (spent + amount > request.maxPerDay)
    throw new Refusal(
      fail('over_daily_limit', { limit: request.maxPerDay, spent, requested: amount })
    )
  const merchant = await merchantAccount(payee.merchantId, trx)
  const booked = await new PostTransfer().handle(
    {
      idempotencyKey: request.idempotencyKey,
      kind: 'payment',
      postings: [
        ...plan.legs.map((leg) => ({ account: leg.account, amount: -leg.amount })),
        { account: merchant, amount },
      ],
      metadata: {
        channel: request.channel,
        shop: payee.shopPublicId,
        ...request.metadata,
      },
      actor: request.actor,
      audit: request.audit ?? false,
      auditAction: 'merchants.payment_booked',
    },
    trx
  )
  if (!booked.ok) throw new Refusal(booked)
  await recordSpending(trx, plan, booked.value)
  if (booked.value.replayed) {
    // The same request committed meanwhile: answer as a retry is answered.
    const first = await paymentUnderKey(
      request.idempotencyKey,
      { shopId: payee.shopId, amount, channel: request.channel },
      trx
    )
    if (!first) throw new Error('a replayed payment has no payment row')
    if (!first.ok) throw new Refusal(first)
    return first
  }
  const publicId = newPublicId()
  await trx
    .insertQuery()
    .table('merchant_payments')
    .insert({
      public_id: publicId,
      transfer_id: booked.value.id,
      merchant_id: payee.merchantId,
      shop_id: payee.shopId,
      person_id: request.personId,
      card_id: request.cardId,
      channel: request.channel,
      amount,
      refunded: 0,
      paid_at: dbTime(trx, request.at),
    })
  return ok({
    transfer: booked.value,
    payment: { publicId, channel: request.channel, amount, refunded: 0 },
    legs: plan.legs.map((leg) => ({ wallet: leg.wallet, amount: leg.amount })),
    balanceAfter: await walletsTotal(trx, request.personId),
  })
}

/** A payment row (merchant_payments) of a transfer booked in plain statements. */
export interface MerchantPaymentRow {
  transferId: number
  merchantId: number
  shopId: number
  personId: number
  cardId: number | null
  channel: string
  amount: number
  /** When the purchase happened, Unix milliseconds. */
  paidAtMs: number
}

/**
 * Inserts payment rows in multi-row statements (the merchant's sales, the
 * holder's spending), for the paths that book in plain statements (code
 * payments, offline records); answers their public ids, in order.
 */
export async function insertMerchantPayments(
  sql: SqlStatements,
  rows: MerchantPaymentRow[]
): Promise<string[]> {
  const ids: string[] = []
  for (const group of inGroups(rows)) {
    const params: unknown[] = []
    for (const row of group) {
      const publicId = newPublicId()
      ids.push(publicId)
      params.push(
        publicId,
        row.transferId,
        row.merchantId,
        row.shopId,
        row.personId,
        row.cardId,
        row.channel,
        row.amount,
        dbTimeOfMillis(row.paidAtMs, sql.dialect)
      )
    }
    await sql.run(
      `INSERT INTO merchant_payments (public_id, transfer_id, merchant_id, shop_id, person_id,
         card_id, channel, amount, refunded, paid_at)
       VALUES ${group.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, 0, ?)').join(', ')}`,
      params
    )
  }
  return ids
}
