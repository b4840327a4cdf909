import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import type { AuditActor } from '#core/services/audit'
import Audience from '#identity/models/audience'
import CardType from '#cards/models/card_type'

export const ISSUANCE_TARGETS = ['eligible', 'list', 'audience'] as const
export type IssuanceTarget = (typeof ISSUANCE_TARGETS)[number]

export const ISSUANCE_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const
export type IssuanceStatus = (typeof ISSUANCE_STATUSES)[number]

/** One person number of a list issuance, with where it was read. */
export interface ListedPerson {
  line: number
  personNo: string
}

/** Why a listed person got no card. */
export interface IssuanceRowError {
  line: number
  personNo: string
  code: 'unknown_person' | 'not_eligible' | 'duplicate' | 'invalid_person_no' | 'validity'
}

/** The most row errors kept with an issuance; the page says how many more there were. */
export const MAX_KEPT_ERRORS = 1000

const json = <T>(fallback: T) => ({
  prepare: (value: T | null) =>
    value === null || value === undefined ? null : JSON.stringify(value),
  consume: (value: string | null): T => {
    if (!value) return fallback
    try {
      return JSON.parse(value)
    } catch {
      return fallback
    }
  },
})

/** A bulk issuance of cards of one type, run by a job. */
export default class CardIssuance extends BaseModel {
  static table = 'card_issuances'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare cardTypeId: number

  @column()
  declare target: IssuanceTarget

  @column({ serializeAs: null })
  declare audienceId: number | null

  @column({ ...json<ListedPerson[] | null>(null), serializeAs: null })
  declare targets: ListedPerson[] | null

  @column()
  declare sourceName: string | null

  @column.dateTime()
  declare validFrom: DateTime | null

  @column.dateTime()
  declare validUntil: DateTime | null

  @column()
  declare status: IssuanceStatus

  @column()
  declare totalCount: number

  @column()
  declare doneCount: number

  @column()
  declare issuedCount: number

  @column()
  declare skippedCount: number

  @column()
  declare errorCount: number

  @column(json<IssuanceRowError[]>([]))
  declare errors: IssuanceRowError[]

  @column(json<AuditActor>({ type: 'system' }))
  declare actor: AuditActor

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @column.dateTime()
  declare startedAt: DateTime | null

  @column.dateTime()
  declare finishedAt: DateTime | null

  @belongsTo(() => CardType)
  declare cardType: BelongsTo<typeof CardType>

  @belongsTo(() => Audience)
  declare audience: BelongsTo<typeof Audience>

  @beforeCreate()
  static assignPublicId(issuance: CardIssuance) {
    issuance.publicId ??= newPublicId()
  }

  get inProgress(): boolean {
    return this.status === 'queued' || this.status === 'running'
  }
}
