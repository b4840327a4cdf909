import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Card from '#cards/models/card'

export const PHYSICAL_STATES = ['bound', 'unbound', 'lost'] as const
export type PhysicalState = (typeof PHYSICAL_STATES)[number]

/** Why a binding ended. */
export type UnbindReason = 'returned' | 'lost' | 'card_ended' | 'replaced'

/** A physical card, by its chip UID, bound to a person's card. */
export default class PhysicalCard extends BaseModel {
  static table = 'physical_cards'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare uid: string

  @column({ serializeAs: null })
  declare personId: number

  @column({ serializeAs: null })
  declare cardId: number

  @column()
  declare state: PhysicalState

  @column.dateTime()
  declare boundAt: DateTime

  @column.dateTime()
  declare unboundAt: DateTime | null

  @column()
  declare unboundReason: UnbindReason | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Card)
  declare card: BelongsTo<typeof Card>

  @beforeCreate()
  static assignPublicId(physical: PhysicalCard) {
    physical.publicId ??= newPublicId()
  }
}
