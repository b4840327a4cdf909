import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import {
  loadBookedTransfer,
  PostTransfer,
  type BookedTransfer,
  type PostTransferError,
} from '#ledger/actions/post_transfer'
import { fenFromDb } from '#ledger/services/money'
import {
  checkIdempotencyKey,
  checkPaymentAmount,
  takeWriteLock,
  type AmountError,
} from '#merchants/services/shop_payments'

/** Who refunds: the merchant (within its refund window) or the finance office (any time). */
export type RefundAuthority = 'merchant' | 'finance'

export interface RefundRequest {
  /** The payment (merchant_payments.public_id). */
  paymentPublicId: string
  /** Fen to return: at most what is left of the payment. */
  amount: number
  reason?: string | null
  authority: RefundAuthority
  idempotencyKey: string
  actor: AuditActor
  /** Now, for the refund window (default the clock). */
  at?: DateTime
}

export type RefundError =
  | PostTransferError
  | AmountError
  | 'invalid_key'
  | 'invalid_reason'
  | 'payment_not_found'
  | 'payment_reversed'
  | 'refund_window_closed'
  | 'refund_exceeds_payment'

export interface BookedRefund {
  transfer: BookedTransfer
  payment: { publicId: string; amount: number; refunded: number; refundable: number }
}

export const MAX_REFUND_REASON = 200

/** Wallets a refund returns to first: cash never expires, subsidies may. */
const RETURN_ORDER = ['wallet_cash', 'wallet_voucher', 'wallet_subsidy']

class Refusal {
  constructor(
    readonly failure: { ok: false; error: RefundError; details?: Record<string, unknown> }
  ) {}
}

/**
 * Returns all or part of a payment at a shop (docs/merchants.md#refunds): a
 * new transfer of kind 'refund' that refers to the payment's, debiting the
 * merchant's account and crediting the wallets the payment was taken from
 * (cash first), never more than is left of the payment — the refunds of a
 * payment together never exceed it, even when requested at once.
 */
export class RefundPayment {
  async handle(request: RefundRequest): Promise<Result<BookedRefund, RefundError>> {
    const amount = checkPaymentAmount(request.amount)
    if (!amount.ok) return amount
    if (!checkIdempotencyKey(request.idempotencyKey)) return fail('invalid_key')
    const reason = typeof request.reason === 'string' ? request.reason.trim() || null : null
    if (reason && reason.length > MAX_REFUND_REASON) return fail('invalid_reason')
    if (request.authority !== 'merchant' && request.authority !== 'finance')
      return fail('invalid_reason')
    if (
      typeof request.paymentPublicId !== 'string' ||
      !/^[0-9A-Za-z]{26}$/.test(request.paymentPublicId)
    )
      return fail('payment_not_found')
    const paymentId = request.paymentPublicId.toUpperCase()

    const earlier = await this.underKey(request.idempotencyKey, paymentId, amount.value)
    if (earlier) return earlier

    try {
      return await db.transaction(async (trx) => {
        await takeWriteLock(trx)
        const query = trx.from('merchant_payments').where('public_id', paymentId)
        if (trx.dialect.name === 'postgres') query.forUpdate()
        const payment = await query.first()
        if (!payment) throw new Refusal(fail('payment_not_found'))
        const transferId = Number(payment.transfer_id)
        const reversed = await trx
          .from('ledger_transfers')
          .where('reverses_transfer_id', transferId)
          .select('id')
          .first()
        if (reversed) throw new Refusal(fail('payment_reversed'))
        if (request.authority === 'merchant') {
          const merchant = await trx
            .from('merchants')
            .where('id', payment.merchant_id)
            .select('refund_window_days')
            .firstOrFail()
          const paidAt = readTime(payment.paid_at)
          const closes = paidAt.plus({ days: Number(merchant.refund_window_days) })
          if ((request.at ?? DateTime.utc()) > closes)
            throw new Refusal(fail('refund_window_closed', { closedAt: closes.toISO() }))
        }
        const paid = fenFromDb(payment.amount)
        const refunded = fenFromDb(payment.refunded)
        if (amount.value > paid - refunded)
          throw new Refusal(
            fail('refund_exceeds_payment', { refundable: paid - refunded, requested: amount.value })
          )

        const legs = await this.returnLegs(trx, transferId, amount.value)
        const booked = await new PostTransfer().handle(
          {
            idempotencyKey: request.idempotencyKey,
            kind: 'refund',
            refersToTransferId: transferId,
            postings: [
              { account: legs.merchantAccountId, amount: -amount.value },
              ...legs.wallets.map((leg) => ({ account: leg.accountId, amount: leg.amount })),
            ],
            memo: reason,
            metadata: { payment: paymentId, authority: request.authority },
            actor: request.actor,
            auditAction: 'merchants.payment_refunded',
          },
          trx
        )
        if (!booked.ok) throw new Refusal(booked)
        if (booked.value.replayed) {
          return ok({
            transfer: booked.value,
            payment: { publicId: paymentId, amount: paid, refunded, refundable: paid - refunded },
          })
        }
        const updated = await trx
          .from('merchant_payments')
          .where('id', payment.id)
          .where('refunded', refunded)
          .update({ refunded: refunded + amount.value })
        if (Number(Array.isArray(updated) ? updated[0] : updated) !== 1)
          throw new Error('payment changed while its refund was booked')
        const after = refunded + amount.value
        return ok({
          transfer: booked.value,
          payment: { publicId: paymentId, amount: paid, refunded: after, refundable: paid - after },
        })
      })
    } catch (error) {
      if (error instanceof Refusal) return error.failure
      throw error
    }
  }

  /** A refund booked before under this key: the first answer, or a conflict. */
  private async underKey(
    key: string,
    paymentId: string,
    amount: number
  ): Promise<Result<BookedRefund, RefundError> | null> {
    const row = await db
      .from('ledger_transfers as refund')
      .leftJoin(
        'merchant_payments',
        'merchant_payments.transfer_id',
        'refund.refers_to_transfer_id'
      )
      .where('refund.idempotency_key', key)
      .select(
        'refund.id',
        'refund.public_id',
        'refund.kind',
        'refund.amount',
        'merchant_payments.public_id as payment_public_id',
        'merchant_payments.amount as paid',
        'merchant_payments.refunded'
      )
      .first()
    if (!row) return null
    if (
      row.kind !== 'refund' ||
      row.payment_public_id !== paymentId ||
      fenFromDb(row.amount) !== amount
    )
      return fail('idempotency_conflict', { transfer: row.public_id })
    const paid = fenFromDb(row.paid)
    const refunded = fenFromDb(row.refunded)
    return ok({
      transfer: await loadBookedTransfer(db.connection(), Number(row.id), true),
      payment: { publicId: paymentId, amount: paid, refunded, refundable: paid - refunded },
    })
  }

  /**
   * The merchant account the payment credited, and how much each wallet it
   * debited gets back: what each gave less what earlier refunds returned to
   * it, cash first.
   */
  private async returnLegs(trx: TransactionClientContract, transferId: number, amount: number) {
    const postings = await trx
      .from('ledger_postings')
      .join('ledger_accounts', 'ledger_accounts.id', 'ledger_postings.account_id')
      .where('ledger_postings.transfer_id', transferId)
      .select('ledger_postings.account_id', 'ledger_postings.amount', 'ledger_accounts.kind')
    const merchant = postings.find((posting) => fenFromDb(posting.amount) > 0)
    if (!merchant) throw new Error('a payment without a credited merchant account')
    const returned = await trx
      .from('ledger_postings')
      .join('ledger_transfers', 'ledger_transfers.id', 'ledger_postings.transfer_id')
      .where('ledger_transfers.refers_to_transfer_id', transferId)
      .where('ledger_transfers.kind', 'refund')
      .where('ledger_postings.amount', '>', 0)
      .groupBy('ledger_postings.account_id')
      .select('ledger_postings.account_id')
      .sum('ledger_postings.amount as total')
    const back = new Map(returned.map((row: any) => [Number(row.account_id), fenFromDb(row.total)]))
    const debits = postings
      .filter((posting) => fenFromDb(posting.amount) < 0)
      .sort((a, b) => RETURN_ORDER.indexOf(a.kind) - RETURN_ORDER.indexOf(b.kind))
    let left = amount
    const wallets: { accountId: number; amount: number }[] = []
    for (const debit of debits) {
      if (left === 0) break
      const accountId = Number(debit.account_id)
      const open = -fenFromDb(debit.amount) - (back.get(accountId) ?? 0)
      const take = Math.min(open, left)
      if (take <= 0) continue
      wallets.push({ accountId, amount: take })
      left -= take
    }
    if (left !== 0) throw new Refusal(fail('refund_exceeds_payment', { refundable: amount - left }))
    return { merchantAccountId: Number(merchant.account_id), wallets }
  }
}

function readTime(value: unknown): DateTime {
  return value instanceof Date
    ? DateTime.fromJSDate(value, { zone: 'utc' })
    : DateTime.fromSQL(String(value), { zone: 'utc' })
}
