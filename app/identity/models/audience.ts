import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { newPublicId } from '#core/services/ids'
import { readStoredRules, type AudienceRules } from '#identity/services/audience_rules'

/**
 * A named selection of people by rules, kept so that other modules (app
 * visibility, card issuance, subsidies, access groups, messages) can refer
 * to it. Archived audiences keep resolving, for the records that used them,
 * but are offered for nothing new.
 */
export default class Audience extends BaseModel {
  static table = 'audiences'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare name: string

  @column()
  declare description: string | null

  /** Stored as JSON text; validated and normalized before every write. */
  @column({
    prepare: (value: AudienceRules) => JSON.stringify(value),
    consume: (value: string) => readStoredRules(value),
  })
  declare rules: AudienceRules

  /** The console account that created it (null once that account is gone). */
  @column({ serializeAs: null })
  declare createdBy: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @column.dateTime()
  declare archivedAt: DateTime | null

  @beforeCreate()
  static assignPublicId(audience: Audience) {
    audience.publicId ??= newPublicId()
  }

  get isArchived(): boolean {
    return this.archivedAt !== null
  }
}
