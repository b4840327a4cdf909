import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import User from '#identity/models/user'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { verifyTotp } from '#core/services/totp'
import { countFailure, failureKey, failureLimiter } from '#identity/actions/sign_in'

export type SecondFactorError = 'invalid_code' | 'locked'

/**
 * Second step of a console sign-in: a TOTP code from the user's app, or,
 * for an account without a factor yet, enrollment of the secret shown to it.
 * A code is accepted once: the same 30-second step cannot sign in twice.
 */
export class VerifySecondFactor {
  async handle(
    userId: number,
    code: string,
    actor: AuditActor,
    enrollSecret?: string
  ): Promise<Result<User, SecondFactorError>> {
    const user = await User.findOrFail(userId)
    if (await failureLimiter().isBlocked(failureKey(user.username))) return fail('locked')
    const secret =
      enrollSecret ?? (user.totpSecret ? encryption.decrypt<string>(user.totpSecret) : null)
    const step = secret ? verifyTotp(secret, code) : null
    const replayed = step !== null && user.totpLastStep !== null && step <= user.totpLastStep
    if (step === null || replayed || !secret) {
      const locked = await countFailure(
        user.username,
        user,
        actor,
        replayed ? 'totp_replayed' : 'totp'
      )
      return fail(locked ? 'locked' : 'invalid_code')
    }
    await failureLimiter().delete(failureKey(user.username))
    await db.transaction(async (trx) => {
      user.useTransaction(trx)
      const enrolling = enrollSecret !== undefined
      if (enrolling) {
        user.totpSecret = encryption.encrypt(secret)
        user.totpConfirmedAt = DateTime.utc()
      }
      user.totpLastStep = step
      user.failedLoginCount = 0
      user.lockedUntil = null
      user.lastLoginAt = DateTime.utc()
      user.lastLoginIp = actor.ip ?? null
      await user.save()
      if (enrolling) {
        await recordAudit(
          actor,
          { action: 'auth.totp_enrolled', subjectType: 'user', subjectId: user.publicId },
          trx
        )
      }
      await recordAudit(
        actor,
        { action: 'auth.login', subjectType: 'user', subjectId: user.publicId },
        trx
      )
    })
    return ok(user)
  }
}
