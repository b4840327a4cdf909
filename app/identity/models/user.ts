import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { compose } from '@adonisjs/core/helpers'
import hash from '@adonisjs/core/services/hash'
import { withAuthFinder } from '@adonisjs/auth/mixins/lucid'
import { newPublicId } from '#core/services/ids'
import { roleGrants, type Permission } from '#core/services/permissions'

const AuthFinder = withAuthFinder(() => hash.use('scrypt'), {
  uids: ['username'],
  passwordColumnName: 'password',
})

/** A console account. */
export default class User extends compose(BaseModel, AuthFinder) {
  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare username: string

  @column()
  declare displayName: string

  @column()
  declare email: string | null

  @column({ serializeAs: null })
  declare password: string

  @column()
  declare role: string

  @column()
  declare locale: 'zh-CN' | 'en' | null

  /** Encrypted with the app key; never serialized. */
  @column({ serializeAs: null })
  declare totpSecret: string | null

  @column.dateTime()
  declare totpConfirmedAt: DateTime | null

  /** The last TOTP step accepted, so that a code cannot be used twice. */
  @column({ serializeAs: null, consume: (value) => (value === null ? null : Number(value)) })
  declare totpLastStep: number | null

  @column({ serializeAs: null })
  declare failedLoginCount: number

  @column.dateTime()
  declare lockedUntil: DateTime | null

  @column.dateTime()
  declare lastLoginAt: DateTime | null

  @column()
  declare lastLoginIp: string | null

  @column.dateTime()
  declare disabledAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignPublicId(user: User) {
    user.publicId ??= newPublicId()
    user.failedLoginCount ??= 0
  }

  can(permission: Permission): boolean {
    return this.disabledAt === null && roleGrants(this.role, permission)
  }

  isLocked(now = DateTime.utc()): boolean {
    return this.lockedUntil !== null && this.lockedUntil > now
  }
}
