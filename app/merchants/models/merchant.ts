import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column, hasMany } from '@adonisjs/lucid/orm'
import type { HasMany } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import type { MerchantCategory, MerchantStatus } from '#merchants/services/categories'
import { readSplitRules, type SplitParty } from '#merchants/services/split_rules'
import Shop from '#merchants/models/shop'

/** A business the school settles with; its shops are where holders pay. */
export default class Merchant extends BaseModel {
  static table = 'merchants'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  /** Short number on statements (M0001). */
  @column()
  declare code: string

  @column()
  declare name: string

  @column()
  declare nameEn: string | null

  @column()
  declare category: MerchantCategory

  @column()
  declare status: MerchantStatus

  @column()
  declare contactName: string | null

  /** The school's commission on sales, in basis points (0…10000). */
  @column({ consume: Number })
  declare commissionBp: number

  @column({
    prepare: (value: SplitParty[]) => JSON.stringify(value),
    consume: (value: unknown) => readSplitRules(value),
  })
  declare splitRules: SplitParty[]

  @column({ consume: Number })
  declare refundWindowDays: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @hasMany(() => Shop)
  declare shops: HasMany<typeof Shop>

  @beforeCreate()
  static assignPublicId(merchant: Merchant) {
    merchant.publicId ??= newPublicId()
  }

  get enabled(): boolean {
    return this.status === 'enabled'
  }

  /** The name in the reader's language. */
  nameIn(locale: string): string {
    return locale.startsWith('zh') || !this.nameEn ? this.name : this.nameEn
  }
}
