import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type { AcceptError } from '#cards/campus_code/verify'
import type { CodeHolder } from '#cards/services/code_verification'
import { verifyCampusCode } from '#cards/services/code_verification'
import type { BookedTransfer } from '#ledger/actions/post_transfer'
import type { WalletKind } from '#ledger/services/account_kinds'
import { paymentSettings } from '#merchants/services/payment_settings'
import {
  bookShopPayment,
  checkIdempotencyKey,
  checkPaymentAmount,
  findPayee,
  paymentUnderKey,
  type AmountError,
  type BookedShopPayment,
  type BookingError,
  type PayeeError,
} from '#merchants/services/shop_payments'

export interface CodePaymentRequest {
  /** The campus code as the till scanned it (Base45 text). */
  codeText: string
  /** The shop the till belongs to. */
  shopPublicId: string
  /** Fen: a whole number, at least 1. */
  amount: number
  /** Terminal id + terminal sequence: the same key twice books once and answers the first result. */
  idempotencyKey: string
  actor: AuditActor
  /** Who verifies the code (the terminal id): kept with seen codes and replays. */
  verifier: string
  /** When the purchase happened (default now): the day whose limit it counts against. */
  at?: DateTime
}

export interface CodePaymentReceipt {
  transfer: BookedTransfer
  payment: { publicId: string; channel: 'campus_code' | 'merchant_code'; amount: number }
  holder: { personPublicId: string; name: string; cardNo: string }
  legs: { wallet: WalletKind; amount: number }[]
  /** The holder's wallets together after the payment (fen). */
  balanceAfter: number
}

export type CodePaymentError =
  | AcceptError
  | AmountError
  | PayeeError
  | BookingError
  | 'invalid_key'
  | 'card_not_found'
  | 'card_frozen'
  | 'card_revoked'
  | 'card_expired'
  | 'card_not_active'
  | 'over_transaction_limit'

const CARD_STATE_ERRORS = {
  frozen: 'card_frozen',
  revoked: 'card_revoked',
  expired: 'card_expired',
  pending_activation: 'card_not_active',
} as const

function holderOf(holder: CodeHolder) {
  return { personPublicId: holder.personPublicId, name: holder.personName, cardNo: holder.cardNo }
}

/**
 * A holder's campus code presented at a shop's till, online: the one action
 * the terminal gateway calls to take a payment (docs/merchants.md).
 *
 * Checks that cost nothing come first (amount, key, shop, limits), so that
 * a refused request does not use up the holder's code; then the code is
 * verified and accepted once (verifyCampusCode: a code seen before is a
 * replay), the card must be active, and the payment is booked in one
 * transaction with the spending plan's legs. A retry under the same key is
 * answered with the first payment before the code is looked at again.
 */
export class AuthorizeCodePayment {
  async handle(request: CodePaymentRequest): Promise<Result<CodePaymentReceipt, CodePaymentError>> {
    const amount = checkPaymentAmount(request.amount)
    if (!amount.ok) return amount
    if (!checkIdempotencyKey(request.idempotencyKey)) return fail('invalid_key')
    if (typeof request.codeText !== 'string' || request.codeText.length === 0)
      return fail('malformed')
    const payee = await findPayee({ publicId: request.shopPublicId })
    if (!payee.ok) return payee
    const settings = await paymentSettings()
    if (amount.value > settings.codeMaxPerPayment)
      return fail('over_transaction_limit', { limit: settings.codeMaxPerPayment })

    const expect = {
      shopId: payee.value.shopId,
      amount: amount.value,
      channel: 'campus_code' as const,
    }
    const earlier = await paymentUnderKey(request.idempotencyKey, expect)
    if (earlier) return this.answer(earlier)

    const verification = await verifyCampusCode(request.codeText, {
      verifier: request.verifier,
      actor: request.actor,
    })
    if (!verification.result.ok) {
      // A retry racing the first request presents the same code: answer it as a retry.
      if (verification.result.error === 'code_replayed') {
        const first = await paymentUnderKey(request.idempotencyKey, expect)
        if (first) return this.answer(first)
      }
      return verification.result
    }
    const holder = verification.holder
    if (!holder) return fail('card_not_found')
    if (holder.cardState !== 'active')
      return fail(CARD_STATE_ERRORS[holder.cardState] ?? 'card_not_active', {
        cardNo: holder.cardNo,
      })
    const card = await db.from('cards').where('id', holder.cardId).select('person_id').first()
    if (!card) return fail('card_not_found')

    const booked = await bookShopPayment({
      personId: Number(card.person_id),
      cardId: holder.cardId,
      payee: payee.value,
      amount: amount.value,
      channel: 'campus_code',
      idempotencyKey: request.idempotencyKey,
      actor: request.actor,
      at: (request.at ?? DateTime.utc()).toUTC().set({ millisecond: 0 }),
      maxPerDay: settings.codeMaxPerDay,
      metadata: { card: holder.cardNo, code: verification.result.value.codeId },
    })
    if (!booked.ok) return booked
    return ok({ ...booked.value, holder: holderOf(holder) })
  }

  /** A payment booked before under the key, with its holder. */
  private async answer(
    earlier: Result<BookedShopPayment, 'idempotency_conflict'>
  ): Promise<Result<CodePaymentReceipt, CodePaymentError>> {
    if (!earlier.ok) return earlier
    const row = await db
      .from('merchant_payments')
      .join('people', 'people.id', 'merchant_payments.person_id')
      .leftJoin('cards', 'cards.id', 'merchant_payments.card_id')
      .where('merchant_payments.public_id', earlier.value.payment.publicId)
      .select('people.public_id', 'people.name', 'cards.card_no')
      .firstOrFail()
    return ok({
      ...earlier.value,
      holder: { personPublicId: row.public_id, name: row.name, cardNo: row.card_no ?? '' },
    })
  }
}
