import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type User from '#identity/models/user'
import {
  accountForChange,
  guardiansLeft,
  isGuardian,
  lockGuardians,
} from '#identity/services/admin_accounts'

export type AccountStateError = 'not_found' | 'self' | 'last_super_admin' | 'unchanged'

/**
 * Disables or enables a console account. A disabled account cannot sign in
 * and its open sessions end at their next request. Nobody disables their
 * own account, and the last enabled whole-school super admin stays enabled.
 */
export class SetAdminAccountState {
  async handle(
    input: { account: string; enabled: boolean },
    actor: AuditActor
  ): Promise<Result<User, AccountStateError>> {
    return db.transaction(async (trx) => {
      await lockGuardians(trx)
      const user = await accountForChange(input.account, trx)
      if (!user) return fail('not_found')
      if ((user.disabledAt === null) === input.enabled) return fail('unchanged')
      if (!input.enabled) {
        if (user.publicId === actor.id) return fail('self')
        if (
          (await isGuardian(trx, user.id)) &&
          (await guardiansLeft(trx, { userId: user.id })) === 0
        ) {
          return fail('last_super_admin')
        }
      }
      user.useTransaction(trx)
      user.disabledAt = input.enabled ? null : DateTime.utc()
      await user.save()
      await recordAudit(
        actor,
        {
          action: input.enabled ? 'admins.account_enabled' : 'admins.account_disabled',
          subjectType: 'user',
          subjectId: user.publicId,
          before: { disabled: input.enabled },
          after: { disabled: !input.enabled },
        },
        trx
      )
      return ok(user)
    })
  }
}
