import { DateTime } from 'luxon'
import hash from '@adonisjs/core/services/hash'
import limiter from '@adonisjs/limiter/services/main'
import db from '@adonisjs/lucid/services/db'
import User from '#identity/models/user'
import quadConfig from '#config/quad'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'

export type SignInError = 'invalid_credentials' | 'locked'

export interface SignInSuccess {
  user: User
  /** What the second step must do: verify a code, or enroll the factor first. */
  secondFactor: 'verify' | 'enroll' | 'none'
}

/**
 * Failures per user name, counted whether or not the account exists, so that
 * the answer never tells an attacker which names are real.
 */
export function failureLimiter() {
  return limiter.use('database', {
    requests: quadConfig.lockout.maxFailures,
    duration: `${quadConfig.lockout.lockMinutes} mins`,
    blockDuration: `${quadConfig.lockout.lockMinutes} mins`,
  })
}

export function failureKey(username: string) {
  return `login_failures_${username.toLowerCase()}`
}

/**
 * Counts a failed sign-in step (password or second factor) against the name
 * and locks the account once the limit is reached. Returns true if now locked.
 */
export async function countFailure(
  username: string,
  user: User | null,
  actor: AuditActor,
  step: string
) {
  const response = await failureLimiter().increment(failureKey(username))
  const locked = response.remaining <= 0
  if (locked)
    await failureLimiter().block(failureKey(username), `${quadConfig.lockout.lockMinutes} mins`)
  await db.transaction(async (trx) => {
    if (user) {
      user.useTransaction(trx)
      user.failedLoginCount = (user.failedLoginCount ?? 0) + 1
      if (locked)
        user.lockedUntil = DateTime.utc().plus({ minutes: quadConfig.lockout.lockMinutes })
      await user.save()
    }
    await recordAudit(
      actor,
      {
        action: locked ? 'auth.locked' : 'auth.login_failed',
        subjectType: 'user',
        subjectId: user?.publicId ?? null,
        outcome: 'failure',
        meta: { username: username.slice(0, 64), step },
      },
      trx
    )
  })
  return locked
}

/**
 * First step of a console sign-in: the password. Answers the same for an
 * unknown name, a wrong password and a disabled account.
 */
export class SignIn {
  async handle(
    username: string,
    password: string,
    actor: AuditActor
  ): Promise<Result<SignInSuccess, SignInError>> {
    const name = username.trim().toLowerCase()
    if (await failureLimiter().isBlocked(failureKey(name))) {
      await recordAudit(actor, {
        action: 'auth.login_refused_locked',
        outcome: 'denied',
        meta: { username: name.slice(0, 64) },
      })
      return fail('locked')
    }
    const user = await User.findBy('username', name)
    // Verify against a real hash even for unknown names, so timing does not
    // reveal which names exist.
    const passwordOk = user
      ? await hash.verify(user.password, password)
      : await hash.verify(await dummyHash(), password).then(() => false)
    if (!user || !passwordOk || user.disabledAt !== null) {
      const locked = await countFailure(
        name,
        user,
        { ...actor, name: actor.name ?? name },
        'password'
      )
      return fail(locked ? 'locked' : 'invalid_credentials')
    }
    const secondFactor = user.totpConfirmedAt
      ? 'verify'
      : user.can('console.access')
        ? 'enroll'
        : 'none'
    return ok({ user, secondFactor })
  }
}

let dummy: string | undefined
async function dummyHash() {
  dummy ??= await hash.make('not-a-real-password-0')
  return dummy
}
