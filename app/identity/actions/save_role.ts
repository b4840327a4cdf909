import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { newPublicId } from '#core/services/ids'
import { assignablePermissions, type Permission } from '#core/services/permissions'
import Role from '#identity/models/role'

export interface RoleInput {
  nameZh: string
  nameEn: string
  description: string | null
  permissions: Permission[]
}

export type SaveRoleError =
  'not_found' | 'built_in' | 'name_taken' | 'no_permissions' | 'permission_unknown' | 'unchanged'

/**
 * Creates a custom role from the permission catalogue, or changes one. A
 * change reaches every holder at their next request. Built-in roles are
 * not changed here, nor anywhere.
 */
export class SaveRole {
  async handle(
    input: RoleInput,
    mode: { mode: 'create' } | { mode: 'update'; publicId: string },
    actor: AuditActor
  ): Promise<Result<Role, SaveRoleError>> {
    const allowed = assignablePermissions()
    const permissions = allowed.filter((permission) => input.permissions.includes(permission))
    if (input.permissions.some((permission) => !allowed.includes(permission))) {
      return fail('permission_unknown')
    }
    if (permissions.length === 0) return fail('no_permissions')
    const values = {
      nameZh: input.nameZh.trim(),
      nameEn: input.nameEn.trim(),
      description: input.description?.trim() || null,
    }
    return db.transaction(async (trx) => {
      let role: Role | null = null
      if (mode.mode === 'update') {
        role = await Role.query({ client: trx })
          .where('public_id', mode.publicId)
          .forUpdate()
          .first()
        if (!role) return fail('not_found')
        if (role.builtIn) return fail('built_in')
      }
      const namesake = await Role.query({ client: trx })
        .where((same) => same.where('name_zh', values.nameZh).orWhere('name_en', values.nameEn))
        .if(role, (query) => query.whereNot('id', role!.id))
        .first()
      if (namesake) return fail('name_taken')

      const before = role ? snapshot(role) : null
      if (!role) {
        role = new Role()
        role.merge({ builtIn: false })
      }
      role.useTransaction(trx)
      role.merge({ ...values, storedPermissions: permissions })
      if (before && JSON.stringify(before) === JSON.stringify(snapshot(role))) {
        return fail('unchanged')
      }
      if (!before) {
        // Keys are made up, never typed: a future built-in role cannot collide with them.
        role.publicId = newPublicId()
        role.key = `custom_${role.publicId.slice(-12).toLowerCase()}`
      }
      await role.save()
      await recordAudit(
        actor,
        {
          action: before ? 'admins.role_updated' : 'admins.role_created',
          subjectType: 'role',
          subjectId: role.publicId,
          before,
          after: snapshot(role),
        },
        trx
      )
      return ok(role)
    })
  }
}

function snapshot(role: Role) {
  return {
    key: role.key,
    nameZh: role.nameZh,
    nameEn: role.nameEn,
    description: role.description,
    permissions: [...(role.storedPermissions ?? [])],
  }
}
