import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Person from '#identity/models/person'
import AccessZone from '#access/models/access_zone'
import type { ExceptionEffect } from '#access/services/access_decision'

/** One person allowed or denied at one zone (and the zones inside it) until a time. */
export default class AccessException extends BaseModel {
  static table = 'access_exceptions'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare personId: number

  @column({ serializeAs: null })
  declare zoneId: number

  @column()
  declare effect: ExceptionEffect

  @column.dateTime()
  declare startsAt: DateTime

  @column.dateTime()
  declare endsAt: DateTime

  @column()
  declare note: string | null

  @column()
  declare createdBy: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Person, { foreignKey: 'personId' })
  declare person: BelongsTo<typeof Person>

  @belongsTo(() => AccessZone, { foreignKey: 'zoneId' })
  declare zone: BelongsTo<typeof AccessZone>

  @beforeCreate()
  static assignPublicId(exception: AccessException) {
    exception.publicId ??= newPublicId()
  }
}
