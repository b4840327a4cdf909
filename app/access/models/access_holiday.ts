import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import AccessGroup from '#access/models/access_group'
import type { DayWindow, HolidayEffect } from '#access/services/access_decision'

/** Dates on which one group's (or every group's) windows are closed, open all day or replaced. */
export default class AccessHoliday extends BaseModel {
  static table = 'access_holidays'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare name: string

  /** School-time dates, YYYY-MM-DD, both included. */
  @column()
  declare startsOn: string

  @column()
  declare endsOn: string

  @column()
  declare effect: HolidayEffect

  @column({
    prepare: (value: DayWindow[] | null) => (value ? JSON.stringify(value) : null),
    consume: (value: string | null) => (value ? (JSON.parse(value) as DayWindow[]) : []),
  })
  declare windows: DayWindow[]

  /** Null: every group. */
  @column({ serializeAs: null })
  declare groupId: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => AccessGroup, { foreignKey: 'groupId' })
  declare group: BelongsTo<typeof AccessGroup>

  @beforeCreate()
  static assignPublicId(holiday: AccessHoliday) {
    holiday.publicId ??= newPublicId()
  }
}
