import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import AccessZone from '#access/models/access_zone'
import type { PointDirection } from '#access/services/access_decision'

export const POINT_KINDS = ['door', 'gate', 'turnstile'] as const
export type PointKind = (typeof POINT_KINDS)[number]

/** A door, gate or turnstile in a zone, driven by a terminal once one is installed. */
export default class AccessPoint extends BaseModel {
  static table = 'access_points'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare code: string

  @column()
  declare name: string

  @column({ serializeAs: null })
  declare zoneId: number

  @column()
  declare kind: PointKind

  @column()
  declare direction: PointDirection

  /** The terminal (terminals.id) that controls the point, if any. */
  @column({ serializeAs: null })
  declare terminalId: number | null

  @column()
  declare enabled: boolean

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => AccessZone, { foreignKey: 'zoneId' })
  declare zone: BelongsTo<typeof AccessZone>

  @beforeCreate()
  static assignPublicId(point: AccessPoint) {
    point.publicId ??= newPublicId()
  }
}
