import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Person from '#identity/models/person'

/** How one person signs in to the portal: password, optional TOTP, lockout state. */
export default class PortalCredential extends BaseModel {
  static table = 'portal_credentials'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column({ serializeAs: null })
  declare personId: number

  /** scrypt, through the hash service. */
  @column({ serializeAs: null })
  declare passwordHash: string

  @column({ consume: (value) => Boolean(value) })
  declare mustChangePassword: boolean

  @column.dateTime()
  declare passwordChangedAt: DateTime

  /** Encrypted with the app key; never serialized. */
  @column({ serializeAs: null })
  declare totpSecret: string | null

  @column.dateTime()
  declare totpEnabledAt: DateTime | null

  /** The last TOTP step accepted, so that a code cannot be used twice. */
  @column({ serializeAs: null, consume: (value) => (value === null ? null : Number(value)) })
  declare totpLastStep: number | null

  @column({ serializeAs: null })
  declare failedCount: number

  @column.dateTime()
  declare lockedUntil: DateTime | null

  @column.dateTime()
  declare lastSignInAt: DateTime | null

  @column()
  declare lastSignInIp: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>

  get totpEnabled(): boolean {
    return this.totpEnabledAt !== null && this.totpSecret !== null
  }

  isLocked(now = DateTime.utc()): boolean {
    return this.lockedUntil !== null && this.lockedUntil > now
  }
}
