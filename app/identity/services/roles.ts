import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { newPublicId } from '#core/services/ids'
import {
  BUILT_IN_ROLE_KEYS,
  PERMISSIONS,
  type BuiltInRole,
  type Permission,
} from '#core/services/permissions'

/** The names of the built-in roles, as the roles table holds them. */
export const BUILT_IN_ROLE_NAMES: Readonly<Record<BuiltInRole, { zh: string; en: string }>> = {
  super_admin: { zh: '超级管理员', en: 'Super admin' },
  card_office: { zh: '卡务中心', en: 'Card office' },
  finance: { zh: '财务处', en: 'Finance office' },
  enrollment_office: { zh: '招生迎新办', en: 'Enrollment office' },
  messaging_officer: { zh: '消息发布员', en: 'Messaging officer' },
  auditor: { zh: '安全审计员', en: 'Security auditor' },
  operator: { zh: '运维管理员', en: 'Operations admin' },
}

/** The role whose whole-school holders may not all go: someone must keep the keys. */
export const GUARDIAN_ROLE: BuiltInRole = 'super_admin'

/**
 * Inserts the rows of built-in roles that the database does not have yet (a
 * release added one after the migration seeded the others). Idempotent;
 * a concurrent insert of the same key loses on the unique index harmlessly.
 */
export async function ensureBuiltInRoles(client: QueryClientContract = db.connection()) {
  const rows = await client.from('roles').where('built_in', true).select('key')
  const present = new Set(rows.map((row) => row.key))
  const now = DateTime.utc().toFormat(client.dialect.dateTimeFormat)
  for (const key of BUILT_IN_ROLE_KEYS) {
    if (present.has(key)) continue
    await client
      .table('roles')
      .insert({
        public_id: newPublicId(),
        key,
        name_zh: BUILT_IN_ROLE_NAMES[key].zh,
        name_en: BUILT_IN_ROLE_NAMES[key].en,
        built_in: true,
        permissions: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict('key')
      .ignore()
  }
}

/**
 * Gives the account a whole-school grant of a built-in role, unless it holds
 * one already. For code that creates accounts with a role name.
 */
export async function grantBuiltInRole(
  userId: number,
  key: BuiltInRole,
  client: QueryClientContract = db.connection()
) {
  let role = await client.from('roles').where('key', key).where('built_in', true).first()
  if (!role) {
    await ensureBuiltInRoles(client)
    role = await client.from('roles').where('key', key).where('built_in', true).first()
  }
  const held = await client
    .from('admin_grants')
    .where({ user_id: userId, role_id: role.id })
    .whereNull('org_unit_id')
    .first()
  if (held) return
  await client.table('admin_grants').insert({
    public_id: newPublicId(),
    user_id: userId,
    role_id: role.id,
    org_unit_id: null,
    granted_by: null,
    created_at: DateTime.utc().toFormat(client.dialect.dateTimeFormat),
  })
}

/** The catalogue grouped by area ("people", "cards"…), in catalogue order. */
export function permissionAreas(
  permissions: readonly Permission[] = PERMISSIONS
): { area: string; permissions: Permission[] }[] {
  const areas = new Map<string, Permission[]>()
  for (const permission of permissions) {
    const area = permission.split('.')[0]
    areas.set(area, [...(areas.get(area) ?? []), permission])
  }
  return [...areas].map(([area, list]) => ({ area, permissions: list }))
}
