import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** Field name → [before, after], personal data masked. */
export type FieldChanges = Record<string, [unknown, unknown]>

const changesColumn = {
  prepare: (value: FieldChanges) => JSON.stringify(value),
  consume: (value: string | FieldChanges) =>
    typeof value === 'string' ? (JSON.parse(value) as FieldChanges) : value,
}

/** Columns shared by the history tables of people and org units. */
export class RecordChange extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare kind: string

  @column(changesColumn)
  declare changes: FieldChanges

  @column()
  declare reason: string | null

  @column()
  declare actorType: string

  @column()
  declare actorId: string | null

  @column()
  declare actorName: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime
}
