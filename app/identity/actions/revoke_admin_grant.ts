import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AdminGrant from '#identity/models/admin_grant'
import {
  accountForChange,
  guardiansLeft,
  isGuardian,
  lockGuardians,
} from '#identity/services/admin_accounts'
import { grantRecord } from '#identity/services/admin_grants'

export type RevokeGrantError = 'not_found' | 'last_super_admin'

/**
 * Takes one grant away from an account. The last whole-school super admin
 * grant of an enabled account stays: without it nobody could manage the
 * console any more.
 */
export class RevokeAdminGrant {
  async handle(
    input: { account: string; grant: string },
    actor: AuditActor
  ): Promise<Result<null, RevokeGrantError>> {
    return db.transaction(async (trx) => {
      await lockGuardians(trx)
      const user = await accountForChange(input.account, trx)
      if (!user) return fail('not_found')
      const grant = await AdminGrant.query({ client: trx })
        .where('public_id', input.grant)
        .where('user_id', user.id)
        .preload('role')
        .preload('orgUnit')
        .first()
      if (!grant) return fail('not_found')
      const removesGuardian =
        user.disabledAt === null &&
        (await isGuardian(trx, user.id)) &&
        !(await isGuardian(trx, user.id, grant.id))
      if (removesGuardian && (await guardiansLeft(trx, { grantId: grant.id })) === 0) {
        return fail('last_super_admin')
      }
      await grant.useTransaction(trx).delete()
      await recordAudit(
        actor,
        {
          action: 'admins.grant_removed',
          subjectType: 'user',
          subjectId: user.publicId,
          before: { publicId: grant.publicId, ...grantRecord(grant.role, grant.orgUnit ?? null) },
        },
        trx
      )
      return ok(null)
    })
  }
}
