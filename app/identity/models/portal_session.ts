import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Person from '#identity/models/person'

export const PORTAL_SIGN_IN_METHODS = ['password', 'qr'] as const
export type PortalSignInMethod = (typeof PORTAL_SIGN_IN_METHODS)[number]

/** Why a portal session ended. */
export type PortalSessionEnd =
  'signed_out' | 'revoked' | 'idle' | 'expired' | 'password_changed' | 'refused'

/**
 * A person's single sign-on session in the portal. The browser's cookie holds
 * the secret; the row holds its digest, its lifetimes and what the devices
 * page shows.
 */
export default class PortalSession extends BaseModel {
  static table = 'portal_sessions'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare tokenHash: string

  @column({ serializeAs: null })
  declare personId: number

  @column()
  declare method: PortalSignInMethod

  @column({ consume: (value) => Boolean(value) })
  declare secondFactorPassed: boolean

  @column({ consume: (value) => Boolean(value) })
  declare remembered: boolean

  @column()
  declare idleTimeoutSeconds: number

  /** The absolute end: no activity extends it. */
  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare lastSeenAt: DateTime

  @column()
  declare ip: string | null

  @column()
  declare userAgent: string | null

  /** "Chrome · Windows", "WeChat · iPhone": what the devices page calls it. */
  @column()
  declare deviceLabel: string

  @column.dateTime()
  declare endedAt: DateTime | null

  @column()
  declare endReason: PortalSessionEnd | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>

  @beforeCreate()
  static assignPublicId(session: PortalSession) {
    session.publicId ??= newPublicId()
  }

  /** Why the session cannot be used at `now`, or null while it is good. */
  endingAt(now = DateTime.utc()): PortalSessionEnd | null {
    if (this.endedAt) return this.endReason ?? 'revoked'
    if (now >= this.expiresAt) return 'expired'
    if (now.diff(this.lastSeenAt).as('seconds') > this.idleTimeoutSeconds) return 'idle'
    return null
  }
}
