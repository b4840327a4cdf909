import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Audience from '#identity/models/audience'
import type { IdentityType } from '#identity/models/person'
import { isIdentityType } from '#cards/services/card_rules'
import { readValidityRule, type ValidityRule } from '#cards/services/validity'
import { readFace, type CardFace } from '#cards/services/card_face'
import { readCodePolicy, type CodePolicy } from '#cards/services/code_policy'

/** SQLite hands booleans back as 0 and 1. */
export const booleanColumn = {
  consume: (value: unknown) => value === true || value === 1 || value === '1',
  prepare: (value: boolean) => Boolean(value),
}

/**
 * A kind of card the school issues: who may hold it, how long it is valid
 * and how its face looks.
 */
export default class CardType extends BaseModel {
  static table = 'card_types'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  /** Short stable key (student, visitor…), used by imports and rules. */
  @column()
  declare code: string

  @column()
  declare nameZh: string

  @column()
  declare nameEn: string

  /** Empty: any identity type. */
  @column({
    prepare: (value: IdentityType[]) => JSON.stringify(value),
    consume: (value: string) => {
      try {
        const parsed = JSON.parse(value)
        return Array.isArray(parsed) ? parsed.filter(isIdentityType) : []
      } catch {
        return []
      }
    },
  })
  declare identityTypes: IdentityType[]

  @column({ serializeAs: null })
  declare audienceId: number | null

  @column({
    prepare: (value: ValidityRule) => JSON.stringify(value),
    consume: (value: string) => readValidityRule(value),
  })
  declare validity: ValidityRule

  @column({
    prepare: (value: CardFace) => JSON.stringify(value),
    consume: (value: string) => readFace(value),
  })
  declare face: CardFace

  /** Permission tags and offline limits signed into the type's credentials. */
  @column({
    prepare: (value: CodePolicy) => JSON.stringify(value),
    consume: (value: string | null) => readCodePolicy(value),
  })
  declare codePolicy: CodePolicy

  @column(booleanColumn)
  declare isTemporary: boolean

  @column(booleanColumn)
  declare enabled: boolean

  @column()
  declare sortOrder: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Audience)
  declare audience: BelongsTo<typeof Audience>

  @beforeCreate()
  static assignPublicId(type: CardType) {
    type.publicId ??= newPublicId()
  }

  /** The name in the reader's language. */
  nameIn(locale: string): string {
    return locale.startsWith('zh') ? this.nameZh : this.nameEn
  }
}
