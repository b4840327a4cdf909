import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { newPublicId } from '#core/services/ids'
import {
  BUILT_IN_ROLES,
  isBuiltInRole,
  isPermission,
  type Permission,
} from '#core/services/permissions'

/**
 * A role: a named set of permissions from the catalogue. Built-in roles take
 * their permissions from the code and cannot be changed; the school's own
 * roles keep theirs in `permissions`.
 */
export default class Role extends BaseModel {
  static table = 'roles'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  /** Stable machine name ("card_office", "college_admin"). */
  @column()
  declare key: string

  @column()
  declare nameZh: string

  @column()
  declare nameEn: string

  @column()
  declare description: string | null

  @column({ consume: (value: unknown) => Boolean(value) })
  declare builtIn: boolean

  /** The stored permissions of a custom role; unknown names (a removed permission) are dropped. */
  @column({
    columnName: 'permissions',
    prepare: (permissions: Permission[] | null) => (permissions ? permissions.join(' ') : null),
    consume: (value: string | null) =>
      value === null ? null : value.split(' ').filter((name) => isPermission(name)),
  })
  declare storedPermissions: Permission[] | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignPublicId(role: Role) {
    role.publicId ??= newPublicId()
  }

  /** What the role grants: the code's list for a built-in role, the stored one otherwise. */
  get permissions(): readonly Permission[] {
    return rolePermissions(this.key, this.builtIn, this.storedPermissions)
  }

  /** The role's name in the reader's language. */
  name(locale: string): string {
    return locale.startsWith('zh') ? this.nameZh : this.nameEn
  }
}

/** The permissions of a role row, shared with the grant loader that reads rows without models. */
export function rolePermissions(
  key: string,
  builtIn: boolean,
  stored: readonly string[] | null
): readonly Permission[] {
  if (builtIn) return isBuiltInRole(key) ? BUILT_IN_ROLES[key] : []
  return (stored ?? []).filter((name) => isPermission(name))
}
