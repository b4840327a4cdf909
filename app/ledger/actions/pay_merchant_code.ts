import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { paymentSettings } from '#merchants/services/payment_settings'
import { checkPin, hasPin, type PinCheckError } from '#merchants/services/payment_pins'
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

export interface MerchantCodePaymentRequest {
  /** The signed-in holder. */
  person: { id: number; publicId: string }
  /** The token in the shop's static merchant code. */
  shopToken: string
  /** Fen, as the holder entered it. */
  amount: number
  /** Required above the PIN threshold. */
  pin?: string | null
  /** The key of the confirmation form: a double submit books once. */
  idempotencyKey: string
  actor: AuditActor
  at?: DateTime
}

export type MerchantCodePaymentError =
  | AmountError
  | PayeeError
  | BookingError
  | PinCheckError
  | 'invalid_key'
  | 'pin_required'
  | 'over_transaction_limit'
  | 'no_active_card'
  | 'card_frozen'

/**
 * The holder scans a shop's static merchant code in the portal, enters the
 * amount and confirms (docs/merchants.md#merchant-code): with the payment
 * PIN above the threshold, within the merchant-code limits, and only while
 * the holder has an active card (a frozen card is refused here as at a till).
 */
export class PayMerchantCode {
  async handle(
    request: MerchantCodePaymentRequest
  ): Promise<Result<BookedShopPayment, MerchantCodePaymentError>> {
    const amount = checkPaymentAmount(request.amount)
    if (!amount.ok) return amount
    if (!checkIdempotencyKey(request.idempotencyKey)) return fail('invalid_key')
    const payee = await findPayee({ codeToken: request.shopToken })
    if (!payee.ok) return payee
    const expect = {
      shopId: payee.value.shopId,
      amount: amount.value,
      channel: 'merchant_code' as const,
    }
    const earlier = await paymentUnderKey(request.idempotencyKey, expect)
    if (earlier) return earlier

    const settings = await paymentSettings()
    if (amount.value > settings.merchantCodeMaxPerPayment)
      return fail('over_transaction_limit', { limit: settings.merchantCodeMaxPerPayment })
    const cards = await db
      .from('cards')
      .where('person_id', request.person.id)
      .whereIn('state', ['active', 'frozen'])
      .select('id', 'state')
    const card = cards.find((row) => row.state === 'active')
    if (!card) return fail(cards.length > 0 ? 'card_frozen' : 'no_active_card')
    if (amount.value > settings.pinThreshold) {
      if (!request.pin)
        return (await hasPin(request.person.id))
          ? fail('pin_required', { threshold: settings.pinThreshold })
          : fail('pin_not_set')
      const pin = await checkPin(request.person, request.pin, request.actor)
      if (!pin.ok) return pin
    }
    const booked = await bookShopPayment({
      personId: request.person.id,
      cardId: Number(card.id),
      payee: payee.value,
      amount: amount.value,
      channel: 'merchant_code',
      idempotencyKey: request.idempotencyKey,
      actor: request.actor,
      at: (request.at ?? DateTime.utc()).toUTC().set({ millisecond: 0 }),
      maxPerDay: settings.merchantCodeMaxPerDay,
      audit: true,
    })
    if (!booked.ok) return booked
    return ok(booked.value)
  }
}
