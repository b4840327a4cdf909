import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** One row of the hash-chained audit log. Rows are only ever inserted. */
export default class AuditEntry extends BaseModel {
  static table = 'audit_entries'

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare seq: number

  @column.dateTime()
  declare occurredAt: DateTime

  @column()
  declare actorType: string

  @column()
  declare actorId: string | null

  @column()
  declare actorName: string | null

  @column()
  declare ip: string | null

  @column()
  declare userAgent: string | null

  @column()
  declare action: string

  @column()
  declare subjectType: string | null

  @column()
  declare subjectId: string | null

  @column()
  declare outcome: string

  @column()
  declare before: string | null

  @column()
  declare after: string | null

  @column()
  declare meta: string | null

  @column()
  declare prevHash: string

  @column()
  declare hash: string
}
