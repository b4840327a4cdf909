import { DateTime } from 'luxon'
import {
  BaseModel,
  beforeCreate,
  beforeSave,
  belongsTo,
  column,
  hasMany,
  manyToMany,
} from '@adonisjs/lucid/orm'
import type { BelongsTo, HasMany, ManyToMany } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import { pinyinInitials } from '#identity/services/pinyin_initials'
import OrgUnit from '#identity/models/org_unit'
import Tag from '#identity/models/tag'
import PersonChange from '#identity/models/person_change'
import type { IdDocType } from '#identity/services/person_rules'

export const IDENTITY_TYPES = [
  'undergraduate',
  'postgraduate',
  'teacher',
  'staff',
  'alumni',
  'visitor',
  'temporary',
] as const

export type IdentityType = (typeof IDENTITY_TYPES)[number]

export const PERSON_STATUSES = ['active', 'suspended', 'graduated', 'left'] as const

export type PersonStatus = (typeof PERSON_STATUSES)[number]

export const GENDERS = ['male', 'female', 'unknown'] as const

export type Gender = (typeof GENDERS)[number]

/**
 * Someone who holds a campus identity. The person number (学工号) is the
 * school's own key for them and is kept in upper case, so that "t00012" and
 * "T00012" are the same person.
 */
export default class Person extends BaseModel {
  static table = 'people'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare personNo: string

  @column()
  declare name: string

  /** Derived from the name on every save; searched by prefix. */
  @column()
  declare namePinyinInitials: string

  @column()
  declare gender: Gender

  @column()
  declare identityType: IdentityType

  @column()
  declare status: PersonStatus

  @column({ serializeAs: null })
  declare orgUnitId: number

  @column()
  declare enrollmentYear: number | null

  @column()
  declare email: string | null

  @column.date()
  declare expectedGraduationDate: DateTime | null

  /** AES-256-GCM ciphertext; read through `decryptPii('phone', …)` only. */
  @column({ serializeAs: null })
  declare phoneCiphertext: string | null

  /** Blind index of the normalized phone number, for exact lookup. */
  @column({ serializeAs: null })
  declare phoneIndex: string | null

  /** What the screen shows (138****5678). */
  @column()
  declare phoneMasked: string | null

  @column()
  declare idDocType: IdDocType | null

  @column({ serializeAs: null })
  declare idDocCiphertext: string | null

  @column({ serializeAs: null })
  declare idDocIndex: string | null

  @column()
  declare idDocMasked: string | null

  /** Relative to the storage root's uploads/ folder; served through an authenticated route. */
  @column({ serializeAs: null })
  declare photoPath: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => OrgUnit)
  declare orgUnit: BelongsTo<typeof OrgUnit>

  @manyToMany(() => Tag, { pivotTable: 'person_tags' })
  declare tags: ManyToMany<typeof Tag>

  @hasMany(() => PersonChange)
  declare changes: HasMany<typeof PersonChange>

  @beforeCreate()
  static assignPublicId(person: Person) {
    person.publicId ??= newPublicId()
  }

  @beforeSave()
  static normalize(person: Person) {
    if (person.$dirty.personNo !== undefined) person.personNo = person.personNo.trim().toUpperCase()
    if (person.$dirty.name !== undefined) {
      person.name = person.name.trim()
      person.namePinyinInitials = pinyinInitials(person.name)
    }
  }
}
