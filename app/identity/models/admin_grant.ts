import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Role from '#identity/models/role'
import OrgUnit from '#identity/models/org_unit'
import User from '#identity/models/user'

/**
 * One role held by one console account, for the whole school (no org unit)
 * or for the subtree under one org unit. Grants are added and removed,
 * never edited.
 */
export default class AdminGrant extends BaseModel {
  static table = 'admin_grants'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare userId: number

  @column({ serializeAs: null })
  declare roleId: number

  @column({ serializeAs: null })
  declare orgUnitId: number | null

  /** Public id of the account that added the grant; null for grants made by setup or migration. */
  @column()
  declare grantedBy: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>

  @belongsTo(() => Role)
  declare role: BelongsTo<typeof Role>

  @belongsTo(() => OrgUnit)
  declare orgUnit: BelongsTo<typeof OrgUnit>

  @beforeCreate()
  static assignPublicId(grant: AdminGrant) {
    grant.publicId ??= newPublicId()
  }
}
