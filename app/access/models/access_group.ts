import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column, manyToMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, ManyToMany } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Audience from '#identity/models/audience'
import AccessZone from '#access/models/access_zone'
import type { TimeWindow } from '#access/services/access_decision'

/** An audience × weekly time windows × zones: who may pass where, and when. */
export default class AccessGroup extends BaseModel {
  static table = 'access_groups'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare name: string

  @column({ serializeAs: null })
  declare audienceId: number

  /** Stored as JSON text; validated by accessWindows before every write. */
  @column({
    prepare: (value: TimeWindow[]) => JSON.stringify(value),
    consume: (value: string) => JSON.parse(value) as TimeWindow[],
  })
  declare windows: TimeWindow[]

  @column()
  declare enabled: boolean

  @column()
  declare description: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Audience, { foreignKey: 'audienceId' })
  declare audience: BelongsTo<typeof Audience>

  @manyToMany(() => AccessZone, {
    pivotTable: 'access_group_zones',
    pivotForeignKey: 'group_id',
    pivotRelatedForeignKey: 'zone_id',
  })
  declare zones: ManyToMany<typeof AccessZone>

  @beforeCreate()
  static assignPublicId(group: AccessGroup) {
    group.publicId ??= newPublicId()
  }
}
