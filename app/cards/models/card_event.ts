import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Card from '#cards/models/card'
import type { CardEventName, CardState } from '#cards/services/card_rules'

/** One line of a card's history. */
export default class CardEvent extends BaseModel {
  static table = 'card_events'

  @column({ isPrimary: true, consume: (value) => Number(value) })
  declare id: number

  @column({ serializeAs: null })
  declare cardId: number

  @column()
  declare event: CardEventName

  @column()
  declare fromState: CardState | null

  @column()
  declare toState: CardState | null

  @column()
  declare reason: string | null

  @column()
  declare note: string | null

  @column({ serializeAs: null })
  declare relatedCardId: number | null

  @column({
    prepare: (value: Record<string, unknown> | null) => (value ? JSON.stringify(value) : null),
    consume: (value: string | null) => (value ? JSON.parse(value) : null),
  })
  declare details: Record<string, unknown> | null

  @column()
  declare actorType: string

  @column()
  declare actorId: string | null

  @column()
  declare actorName: string | null

  @column.dateTime()
  declare occurredAt: DateTime

  @belongsTo(() => Card, { foreignKey: 'relatedCardId' })
  declare relatedCard: BelongsTo<typeof Card>
}
