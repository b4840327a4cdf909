import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Card from '#cards/models/card'

export type CardDeviceRevokeReason = 'replaced'

/** The phone that holds a card's device key (docs/campus-code.md §11). */
export default class CardDevice extends BaseModel {
  static table = 'card_devices'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare cardId: number

  /** Raw Ed25519 public key, lower-case hex. */
  @column()
  declare publicKey: string

  @column()
  declare label: string | null

  @column.dateTime()
  declare lastRenewedAt: DateTime

  @column.dateTime()
  declare revokedAt: DateTime | null

  @column()
  declare revokedReason: CardDeviceRevokeReason | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Card)
  declare card: BelongsTo<typeof Card>

  @beforeCreate()
  static assignPublicId(device: CardDevice) {
    device.publicId ??= newPublicId()
  }
}
