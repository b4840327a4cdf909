import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { passwordProblems, type PasswordProblem } from '#identity/services/password_policy'
import { accountForChange } from '#identity/services/admin_accounts'
import { failureKey, failureLimiter } from '#identity/actions/sign_in'

export type ResetPasswordError = 'not_found' | PasswordProblem

/**
 * Sets a new password on someone's console account (they forgot theirs) and
 * lifts a lockout. The password itself never reaches the audit log.
 */
export class ResetAdminPassword {
  async handle(
    input: { account: string; password: string },
    actor: AuditActor
  ): Promise<Result<null, ResetPasswordError>> {
    const result = await db.transaction(async (trx) => {
      const user = await accountForChange(input.account, trx)
      if (!user) return fail('not_found')
      const problems = passwordProblems(input.password, user.username)
      if (problems.length > 0) return fail(problems[0], { problems })
      user.useTransaction(trx)
      user.password = input.password
      user.failedLoginCount = 0
      user.lockedUntil = null
      await user.save()
      await recordAudit(
        actor,
        { action: 'admins.password_reset', subjectType: 'user', subjectId: user.publicId },
        trx
      )
      return ok(user.username)
    })
    if (!result.ok) return result
    await failureLimiter().delete(failureKey(result.value))
    return ok(null)
  }
}
