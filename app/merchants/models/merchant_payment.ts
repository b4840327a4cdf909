import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'
import { fenFromDb } from '#ledger/services/money'

export type PaymentChannel = 'campus_code' | 'merchant_code'

/**
 * A payment at a shop, beside its ledger transfer: the shop, the card, the
 * day's spending for limits, and how much has been refunded.
 */
export default class MerchantPayment extends BaseModel {
  static table = 'merchant_payments'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare transferId: number

  @column({ serializeAs: null })
  declare merchantId: number

  @column({ serializeAs: null })
  declare shopId: number

  @column({ serializeAs: null })
  declare personId: number

  @column({ serializeAs: null })
  declare cardId: number | null

  @column()
  declare channel: PaymentChannel

  @column({ consume: fenFromDb })
  declare amount: number

  @column({ consume: fenFromDb })
  declare refunded: number

  @column.dateTime()
  declare paidAt: DateTime

  get refundable(): number {
    return this.amount - this.refunded
  }
}
