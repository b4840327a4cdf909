import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Role from '#identity/models/role'

export type DeleteRoleError = 'not_found' | 'built_in' | 'in_use'

/**
 * Deletes a custom role that no grant uses any more. Built-in roles stay;
 * a role still held must first be taken from its holders, so that nobody
 * loses access as a side effect.
 */
export class DeleteRole {
  async handle(publicId: string, actor: AuditActor): Promise<Result<null, DeleteRoleError>> {
    return db.transaction(async (trx) => {
      const role = await Role.query({ client: trx })
        .where('public_id', publicId)
        .forUpdate()
        .first()
      if (!role) return fail('not_found')
      if (role.builtIn) return fail('built_in')
      const used = await trx.from('admin_grants').where('role_id', role.id).first()
      if (used) return fail('in_use', { role: role.nameZh })
      await role.useTransaction(trx).delete()
      await recordAudit(
        actor,
        {
          action: 'admins.role_deleted',
          subjectType: 'role',
          subjectId: role.publicId,
          before: {
            key: role.key,
            nameZh: role.nameZh,
            nameEn: role.nameEn,
            permissions: [...(role.storedPermissions ?? [])],
          },
        },
        trx
      )
      return ok(null)
    })
  }
}
