import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Person from '#identity/models/person'
import CardType from '#cards/models/card_type'
import type { CardState, FreezeActor, FreezeReason, RevokeReason } from '#cards/services/card_rules'

/** A person's electronic campus card of one type. */
export default class Card extends BaseModel {
  static table = 'cards'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare cardNo: string

  @column({ serializeAs: null })
  declare personId: number

  @column({ serializeAs: null })
  declare cardTypeId: number

  @column()
  declare state: CardState

  @column.dateTime()
  declare validFrom: DateTime

  @column.dateTime()
  declare validUntil: DateTime | null

  @column.dateTime()
  declare issuedAt: DateTime

  @column.dateTime()
  declare activatedAt: DateTime | null

  @column.dateTime()
  declare frozenAt: DateTime | null

  @column()
  declare frozenBy: FreezeActor | null

  @column()
  declare frozenReason: FreezeReason | null

  @column()
  declare frozenNote: string | null

  @column.dateTime()
  declare revokedAt: DateTime | null

  @column()
  declare revokedReason: RevokeReason | null

  @column()
  declare revokedNote: string | null

  @column.dateTime()
  declare expiredAt: DateTime | null

  @column({ serializeAs: null })
  declare replacedById: number | null

  @column({ serializeAs: null })
  declare replacesId: number | null

  @column({ serializeAs: null })
  declare issuanceId: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>

  @belongsTo(() => CardType)
  declare cardType: BelongsTo<typeof CardType>

  @belongsTo(() => Card, { foreignKey: 'replacedById' })
  declare replacedBy: BelongsTo<typeof Card>

  @belongsTo(() => Card, { foreignKey: 'replacesId' })
  declare replaces: BelongsTo<typeof Card>

  @beforeCreate()
  static assignPublicId(card: Card) {
    card.publicId ??= newPublicId()
  }
}
