import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { IMPLIED_PERMISSIONS, isOrgScoped, type Permission } from '#core/services/permissions'
import { rolePermissions } from '#identity/models/role'
import { NOWHERE, subtreesScope, WHOLE_SCHOOL, type OrgScope } from '#identity/services/org_scope'
import type User from '#identity/models/user'

/** One grant as the permission checks need it. */
export interface HeldGrant {
  publicId: string
  role: { key: string; nameZh: string; nameEn: string; builtIn: boolean }
  permissions: readonly Permission[]
  /** Null for the whole school. */
  unit: { id: number; publicId: string; path: string; name: string } | null
}

/**
 * What one account may do, worked out from its grants: the union over them,
 * where a grant at an org unit gives only the org-scoped permissions of its
 * role (people and the organization tree), inside that unit's subtree, and
 * every grant gives the implied ones (the console itself).
 */
export class AdminAccess {
  constructor(readonly grants: readonly HeldGrant[]) {}

  /** True when some grant gives the permission, somewhere. */
  has(permission: Permission): boolean {
    return this.grants.some((grant) => gives(grant, permission))
  }

  /** True when a whole-school grant gives the permission. */
  everywhere(permission: Permission): boolean {
    return this.scopeFor(permission).kind === 'all'
  }

  /** Where in the organization tree the permission reaches. */
  scopeFor(permission: Permission): OrgScope {
    const giving = this.grants.filter((grant) => gives(grant, permission))
    if (giving.some((grant) => grant.unit === null)) return WHOLE_SCHOOL
    if (giving.length === 0) return NOWHERE
    return subtreesScope(giving.map((grant) => grant.unit!.path))
  }

  /** The names of the roles held, in the reader's language, without repeats. */
  roleNames(locale: string): string[] {
    const zh = locale.startsWith('zh')
    return [...new Set(this.grants.map((grant) => (zh ? grant.role.nameZh : grant.role.nameEn)))]
  }
}

function gives(grant: HeldGrant, permission: Permission): boolean {
  if (IMPLIED_PERMISSIONS.includes(permission)) return true
  if (!grant.permissions.includes(permission)) return false
  return grant.unit === null || isOrgScoped(permission)
}

export const NO_ACCESS = new AdminAccess([])

/**
 * The access of each account, read in one query for all of them: their
 * grants with each grant's role and org unit (its current path, so that a
 * grant follows its unit when the unit moves).
 */
export async function loadAdminAccess(
  userIds: number[],
  client?: QueryClientContract
): Promise<Map<number, AdminAccess>> {
  const access = new Map<number, AdminAccess>()
  if (userIds.length === 0) return access
  const rows = await (client ?? db)
    .from('admin_grants')
    .join('roles', 'roles.id', 'admin_grants.role_id')
    .leftJoin('org_units', 'org_units.id', 'admin_grants.org_unit_id')
    .whereIn('admin_grants.user_id', [...new Set(userIds)])
    .orderBy('admin_grants.id')
    .select(
      'admin_grants.user_id',
      'admin_grants.public_id',
      'roles.key as role_key',
      'roles.name_zh as role_name_zh',
      'roles.name_en as role_name_en',
      'roles.built_in as role_built_in',
      'roles.permissions as role_permissions',
      'org_units.id as unit_id',
      'org_units.public_id as unit_public_id',
      'org_units.path as unit_path',
      'org_units.name as unit_name'
    )
  const byUser = new Map<number, HeldGrant[]>()
  for (const row of rows) {
    const builtIn = Boolean(row.role_built_in)
    const stored = row.role_permissions === null ? null : String(row.role_permissions).split(' ')
    const grant: HeldGrant = {
      publicId: row.public_id,
      role: {
        key: row.role_key,
        nameZh: row.role_name_zh,
        nameEn: row.role_name_en,
        builtIn,
      },
      permissions: rolePermissions(row.role_key, builtIn, stored),
      unit:
        row.unit_id === null
          ? null
          : {
              id: Number(row.unit_id),
              publicId: row.unit_public_id,
              path: row.unit_path,
              name: row.unit_name,
            },
    }
    const list = byUser.get(Number(row.user_id)) ?? []
    list.push(grant)
    byUser.set(Number(row.user_id), list)
  }
  for (const id of userIds) access.set(id, new AdminAccess(byUser.get(id) ?? []))
  return access
}

/**
 * Where in the organization tree the account may use the permission: the
 * whole school, some subtrees, or nowhere. A disabled account reaches
 * nowhere. The account's grants are read once and kept on it, so that
 * every check of one request answers from the same grants.
 */
export async function scopeFor(user: User, permission: Permission): Promise<OrgScope> {
  if (user.disabledAt !== null) return NOWHERE
  const access = await user.loadAccess()
  return access.scopeFor(permission)
}
