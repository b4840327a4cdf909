import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column, hasMany } from '@adonisjs/lucid/orm'
import type { BelongsTo, HasMany } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'

/** The kinds of unit, from the top of the tree down. */
export const ORG_UNIT_KINDS = [
  'school',
  'campus',
  'college',
  'department',
  'major',
  'grade',
  'class',
] as const

export type OrgUnitKind = (typeof ORG_UNIT_KINDS)[number]

/**
 * One node of the organization tree. `path` lists the ids from the root to
 * this unit ("/1/4/17/"): the subtree of a unit is every unit whose path
 * starts with its path. Write units through `insertOrgUnit` so that path and
 * depth stay right.
 */
export default class OrgUnit extends BaseModel {
  static table = 'org_units'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare parentId: number | null

  @column()
  declare kind: OrgUnitKind

  @column()
  declare code: string

  @column()
  declare name: string

  @column()
  declare sortOrder: number

  @column.dateTime()
  declare disabledAt: DateTime | null

  @column({ serializeAs: null })
  declare path: string

  @column()
  declare depth: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => OrgUnit, { foreignKey: 'parentId' })
  declare parent: BelongsTo<typeof OrgUnit>

  @hasMany(() => OrgUnit, { foreignKey: 'parentId' })
  declare children: HasMany<typeof OrgUnit>

  @beforeCreate()
  static assignPublicId(unit: OrgUnit) {
    unit.publicId ??= newPublicId()
    unit.sortOrder ??= 0
  }

  /** Ids of this unit's ancestors, root first, read from the path. */
  ancestorIds(): number[] {
    return this.path
      .split('/')
      .filter(Boolean)
      .map(Number)
      .filter((id) => id !== this.id)
  }
}
