import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AdminGrant from '#identity/models/admin_grant'
import { accountForChange } from '#identity/services/admin_accounts'
import {
  grantRecord,
  holdsGrant,
  resolveGrantTarget,
  type GrantTargetError,
} from '#identity/services/admin_grants'

export interface GrantInput {
  /** The account's public id. */
  account: string
  /** The role's public id. */
  role: string
  /** The unit at the top of the subtree; null for the whole school. */
  unit: string | null
}

export type GrantRoleError = 'not_found' | 'already_granted' | GrantTargetError

/** Gives an account one more role, for the whole school or for one unit's subtree. */
export class GrantAdminRole {
  async handle(input: GrantInput, actor: AuditActor): Promise<Result<AdminGrant, GrantRoleError>> {
    return db.transaction(async (trx) => {
      const user = await accountForChange(input.account, trx)
      if (!user) return fail('not_found')
      const target = await resolveGrantTarget(trx, input.role, input.unit)
      if (!target.ok) return target
      const { role, unit } = target.value
      if (await holdsGrant(trx, user.id, role.id, unit?.id ?? null)) return fail('already_granted')
      const grant = await AdminGrant.create(
        { userId: user.id, roleId: role.id, orgUnitId: unit?.id ?? null, grantedBy: actor.id },
        { client: trx }
      )
      await recordAudit(
        actor,
        {
          action: 'admins.grant_added',
          subjectType: 'user',
          subjectId: user.publicId,
          after: { publicId: grant.publicId, ...grantRecord(role, unit) },
        },
        trx
      )
      return ok(grant)
    })
  }
}
