import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** One e-mailed password reset link: single use, short-lived, stored as a digest. */
export default class PortalPasswordReset extends BaseModel {
  static table = 'portal_password_resets'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column({ serializeAs: null })
  declare personId: number

  @column({ serializeAs: null })
  declare tokenHash: string

  @column()
  declare requestedIp: string | null

  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare usedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  usableAt(now = DateTime.utc()): boolean {
    return this.usedAt === null && now < this.expiresAt
  }
}
