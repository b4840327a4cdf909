import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import CardType, { booleanColumn } from '#cards/models/card_type'
import type { UpgradeTrigger } from '#cards/services/card_rules'

/** When a holder graduates, their card of one type becomes a card of another. */
export default class CardUpgradeRule extends BaseModel {
  static table = 'card_upgrade_rules'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare fromTypeId: number

  @column({ serializeAs: null })
  declare toTypeId: number

  @column()
  declare trigger: UpgradeTrigger

  @column(booleanColumn)
  declare enabled: boolean

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => CardType, { foreignKey: 'fromTypeId' })
  declare fromType: BelongsTo<typeof CardType>

  @belongsTo(() => CardType, { foreignKey: 'toTypeId' })
  declare toType: BelongsTo<typeof CardType>

  @beforeCreate()
  static assignPublicId(rule: CardUpgradeRule) {
    rule.publicId ??= newPublicId()
  }
}
