import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import PortalPasswordReset from '#identity/models/portal_password_reset'
import type { RequestOrigin } from '#identity/actions/portal_sign_in'
import { clearPortalFailures } from '#identity/services/portal_lockout'
import { hashPortalPassword, portalPasswordProblems } from '#identity/services/portal_passwords'
import { looksLikeSecret, secretDigest } from '#identity/services/portal_secrets'
import {
  endPersonPortalSessions,
  personActor,
  personMaySignIn,
  sqlTime,
} from '#identity/services/portal_sessions'

export type ResetPortalPasswordError = 'invalid_token' | 'weak_password'

/** The reset a link's token names, while it can still be used; else null. */
export async function usablePasswordReset(token: unknown) {
  if (!looksLikeSecret(token)) return null
  const reset = await PortalPasswordReset.findBy('token_hash', secretDigest(token))
  if (!reset || !reset.usableAt()) return null
  const person = await Person.find(reset.personId)
  if (!person || !personMaySignIn(person)) return null
  return { reset, person }
}

/**
 * Sets a new password from an e-mailed link. The link is spent by a
 * conditional UPDATE, so two submissions cannot both use it; every portal
 * session of the person ends.
 */
export class ResetPortalPassword {
  async handle(
    token: string,
    newPassword: string,
    origin: RequestOrigin
  ): Promise<Result<Person, ResetPortalPasswordError>> {
    const found = await usablePasswordReset(token)
    if (!found) return fail('invalid_token')
    const { reset, person } = found
    const problems = portalPasswordProblems(newPassword, person.personNo)
    if (problems.length) return fail('weak_password', { problems })
    const passwordHash = await hashPortalPassword(newPassword)
    const now = DateTime.utc()
    const done = await db.transaction(async (trx) => {
      const spent = await trx
        .from('portal_password_resets')
        .where('id', reset.id)
        .whereNull('used_at')
        .update({ used_at: sqlTime(now, trx) })
      if (Number(Array.isArray(spent) ? spent[0] : spent) === 0) return false
      const credential = await PortalCredential.query({ client: trx })
        .where('person_id', person.id)
        .firstOrFail()
      credential.passwordHash = passwordHash
      credential.mustChangePassword = false
      credential.passwordChangedAt = now
      credential.failedCount = 0
      credential.lockedUntil = null
      await credential.save()
      const ended = await endPersonPortalSessions(person.id, 'password_changed', { trx })
      await recordAudit(
        personActor(person, origin),
        {
          action: 'portal.password_changed',
          subjectType: 'person',
          subjectId: person.publicId,
          meta: { via: 'email_reset', endedSessions: ended },
        },
        trx
      )
      return true
    })
    if (!done) return fail('invalid_token')
    await clearPortalFailures(person.personNo)
    return ok(person)
  }
}
