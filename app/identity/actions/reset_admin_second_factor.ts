import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { accountForChange } from '#identity/services/admin_accounts'

/**
 * Forgets an account's authenticator app (a lost phone): at its next
 * sign-in, after the password, the account enrolls a new one.
 */
export class ResetAdminSecondFactor {
  async handle(
    input: { account: string },
    actor: AuditActor
  ): Promise<Result<null, 'not_found' | 'unchanged'>> {
    return db.transaction(async (trx) => {
      const user = await accountForChange(input.account, trx)
      if (!user) return fail('not_found')
      if (!user.totpSecret && !user.totpConfirmedAt) return fail('unchanged')
      user.useTransaction(trx)
      user.totpSecret = null
      user.totpConfirmedAt = null
      user.totpLastStep = null
      await user.save()
      await recordAudit(
        actor,
        { action: 'admins.second_factor_reset', subjectType: 'user', subjectId: user.publicId },
        trx
      )
      return ok(null)
    })
  }
}
