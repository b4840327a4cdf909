import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { newPublicId } from '#core/services/ids'
import { readStoredMapping, type DirectoryMapping } from '#identity/services/directory_mapping'

export const DIRECTORY_SCOPES = ['sub', 'one'] as const
export type DirectoryScope = (typeof DIRECTORY_SCOPES)[number]

/** What a sync does to a person whose entry is gone from the directory. */
export const VANISHED_ACTIONS = ['nothing', 'suspend', 'left'] as const
export type VanishedAction = (typeof VANISHED_ACTIONS)[number]

export const DIRECTORY_SCHEDULES = ['off', 'hourly', 'daily'] as const
export type DirectorySchedule = (typeof DIRECTORY_SCHEDULES)[number]

/**
 * An LDAP or Active Directory server people are read from. The bind
 * password is ciphertext of the app key (`encryption.encrypt`): it is
 * decrypted only to bind and is never serialized, shown or logged.
 */
export default class DirectorySource extends BaseModel {
  static table = 'directory_sources'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare name: string

  /** ldap://host[:port] or ldaps://host[:port] */
  @column()
  declare url: string

  @column({ consume: (value) => Boolean(value) })
  declare startTls: boolean

  /** PEM of the CA (or CAs) that signed the server's certificate; null trusts the system's CAs. */
  @column()
  declare caCertificate: string | null

  /** Null binds anonymously. */
  @column()
  declare bindDn: string | null

  @column({ serializeAs: null })
  declare bindPassword: string | null

  @column()
  declare baseDn: string

  @column()
  declare searchFilter: string

  @column()
  declare scope: DirectoryScope

  @column()
  declare pageSize: number

  @column()
  declare timeoutSeconds: number

  @column({
    prepare: (value: DirectoryMapping) => JSON.stringify(value),
    consume: (value: string) => readStoredMapping(value),
  })
  declare mapping: DirectoryMapping

  @column()
  declare vanishedAction: VanishedAction

  /** A run that would make more than this share of the source's people vanish is refused. */
  @column()
  declare vanishLimitPercent: number

  @column()
  declare schedule: DirectorySchedule

  /** HH:MM in the school's time zone, for daily runs. */
  @column()
  declare scheduleTime: string | null

  @column.dateTime()
  declare scheduledFrom: DateTime | null

  @column({ consume: (value) => Boolean(value) })
  declare enabled: boolean

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignPublicId(source: DirectorySource) {
    source.publicId ??= newPublicId()
  }
}
