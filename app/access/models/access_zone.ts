import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { newPublicId } from '#core/services/ids'

/** A campus area that access groups grant: a building, a floor, a campus. */
export default class AccessZone extends BaseModel {
  static table = 'access_zones'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare code: string

  @column()
  declare name: string

  /** The zone this one lies inside; a group that grants the outer zone grants this one too. */
  @column({ serializeAs: null })
  declare parentId: number | null

  @column()
  declare description: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignPublicId(zone: AccessZone) {
    zone.publicId ??= newPublicId()
  }
}
