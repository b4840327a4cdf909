import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { newPublicId } from '#core/services/ids'

export type QrChallengeStatus = 'pending' | 'scanned' | 'approved' | 'rejected' | 'redeemed'

/** A QR login challenge shown by one desktop browser. */
export default class PortalQrChallenge extends BaseModel {
  static table = 'portal_qr_challenges'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare tokenHash: string

  @column({ serializeAs: null })
  declare browserHash: string

  @column()
  declare status: QrChallengeStatus

  @column()
  declare desktopIp: string | null

  @column()
  declare desktopUserAgent: string | null

  @column()
  declare desktopLabel: string

  /** Who approved or rejected it; null while nobody has. */
  @column({ serializeAs: null })
  declare personId: number | null

  @column({ consume: (value) => Boolean(value) })
  declare secondFactorPassed: boolean

  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare decidedAt: DateTime | null

  @column.dateTime()
  declare redeemedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @beforeCreate()
  static assignPublicId(challenge: PortalQrChallenge) {
    challenge.publicId ??= newPublicId()
  }

  isExpired(now = DateTime.utc()): boolean {
    return now >= this.expiresAt
  }
}
