import { randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import type { MerchantCategory, MerchantStatus } from '#merchants/services/categories'
import Merchant from '#merchants/models/merchant'

/** A fresh static merchant-code token: 24 random bytes, base64url (32 characters). */
export function newShopCodeToken(): string {
  return randomBytes(24).toString('base64url')
}

/** A merchant's point of sale: a canteen window, a shop, a bus line. */
export default class Shop extends BaseModel {
  static table = 'shops'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare merchantId: number

  @column()
  declare name: string

  @column()
  declare nameEn: string | null

  @column()
  declare location: string | null

  /** Null: the merchant's category applies. */
  @column()
  declare category: MerchantCategory | null

  @column()
  declare status: MerchantStatus

  /** The payload of the shop's static merchant code (its printed QR). */
  @column({ serializeAs: null })
  declare codeToken: string

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Merchant)
  declare merchant: BelongsTo<typeof Merchant>

  @beforeCreate()
  static assignIds(shop: Shop) {
    shop.publicId ??= newPublicId()
    shop.codeToken ??= newShopCodeToken()
  }

  get enabled(): boolean {
    return this.status === 'enabled'
  }

  /** The category that applies: the shop's own, or its merchant's. */
  categoryWith(merchant: Merchant): MerchantCategory {
    return this.category ?? merchant.category
  }

  nameIn(locale: string): string {
    return locale.startsWith('zh') || !this.nameEn ? this.name : this.nameEn
  }
}
