import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** A person's payment PIN (hashed), with its wrong-try counter and lockout. */
export default class PaymentPin extends BaseModel {
  static table = 'payment_pins'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column({ serializeAs: null })
  declare personId: number

  @column({ serializeAs: null })
  declare pinHash: string

  @column({ consume: Number })
  declare failedAttempts: number

  @column.dateTime()
  declare lockedUntil: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime
}
