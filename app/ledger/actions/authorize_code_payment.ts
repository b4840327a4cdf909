import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type { AcceptError } from '#cards/campus_code/verify'
import { verifyCode } from '#cards/campus_code/verify'
import type { CodeHolder } from '#cards/services/code_verification'
import { issuerKeyRing } from '#cards/services/issuer_signing'
import { recordReplay, replayFreezePolicy } from '#cards/services/replay_store'
import { bookCodePayment } from '#ledger/services/code_payment_booking'
import type { BookedTransfer } from '#ledger/actions/post_transfer'
import type { WalletKind } from '#ledger/services/account_kinds'
import { paymentSettings } from '#merchants/services/payment_settings'
import {
  checkIdempotencyKey,
  checkPaymentAmount,
  findPayee,
  paymentUnderKey,
  shopPublicIdOf,
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

function holderOf(holder: CodeHolder) {
  return { personPublicId: holder.personPublicId, name: holder.personName, cardNo: holder.cardNo }
}

/**
 * A holder's campus code presented at a shop's till, online: the one action
 * the terminal gateway calls to take a payment (docs/merchants.md).
 *
 * The code's signatures are checked first, in memory; then, in one unit of
 * the code payments' group commit (bookCodePayment, docs/adr/0013): the
 * shop and the limits, the key (a retry under the same key is answered with
 * the first payment before the code is looked at again), the blacklist, the
 * one-time claim of the code (a code seen before is a replay), the card's
 * state and the booking with the spending plan's legs. A refused payment
 * writes nothing but the claim of its code, which stays used.
 */
export class AuthorizeCodePayment {
  async handle(request: CodePaymentRequest): Promise<Result<CodePaymentReceipt, CodePaymentError>> {
    const amount = checkPaymentAmount(request.amount)
    if (!amount.ok) return amount
    if (!checkIdempotencyKey(request.idempotencyKey)) return fail('invalid_key')
    if (typeof request.codeText !== 'string' || request.codeText.length === 0)
      return fail('malformed')
    const shopPublicId = shopPublicIdOf(request.shopPublicId)
    if (!shopPublicId) return fail('shop_not_found')
    const settings = await paymentSettings()
    const now = Math.floor(Date.now() / 1000)
    // On the main thread: the thread pool was measured no faster for one code at a time (ADR 0013).
    const verified = await verifyCode(request.codeText, { issuerKeys: await issuerKeyRing(), now })

    if (!verified.ok) {
      // The shop, the limit and a retry's first answer come before the code's own refusal.
      const payee = await findPayee({ publicId: shopPublicId })
      if (!payee.ok) return payee
      if (amount.value > settings.codeMaxPerPayment)
        return fail('over_transaction_limit', { limit: settings.codeMaxPerPayment })
      const earlier = await paymentUnderKey(request.idempotencyKey, {
        shopId: payee.value.shopId,
        amount: amount.value,
        channel: 'campus_code',
      })
      if (earlier) return this.answer(earlier)
      return verified
    }

    const outcome = await bookCodePayment({
      shopPublicId,
      amount: amount.value,
      idempotencyKey: request.idempotencyKey,
      actor: request.actor,
      verifier: request.verifier,
      at: (request.at ?? DateTime.utc()).toUTC().set({ millisecond: 0 }),
      now,
      code: verified.value,
      maxPerPayment: settings.codeMaxPerPayment,
      maxPerDay: settings.codeMaxPerDay,
    })
    if (outcome.kind === 'booked')
      return ok({ ...outcome.booked, holder: holderOf(outcome.holder) })
    if (outcome.kind === 'refused') return outcome.failure

    const expect = {
      shopId: outcome.payee.shopId,
      amount: amount.value,
      channel: 'campus_code' as const,
    }
    if (outcome.kind === 'replayed') {
      // A retry racing the first request presents the same code: answer it as a retry.
      const first = await paymentUnderKey(request.idempotencyKey, expect)
      if (first) return this.answer(first)
      const { cardNo, codeId } = verified.value
      await recordReplay(
        { cardNo, codeId, verifier: request.verifier, now },
        request.actor,
        replayFreezePolicy()
      )
      return fail('code_replayed', { cardNo, codeId })
    }
    const earlier = await paymentUnderKey(request.idempotencyKey, expect)
    if (!earlier) throw new Error('a booked key has no transfer')
    return this.answer(earlier)
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
