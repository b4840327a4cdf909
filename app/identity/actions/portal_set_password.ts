import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import { clearPortalFailures } from '#identity/services/portal_lockout'
import { generateInitialPassword, hashPortalPassword } from '#identity/services/portal_passwords'
import { endPersonPortalSessions } from '#identity/services/portal_sessions'

export interface SetPortalPasswordResult {
  person: Person
  /** Shown to the admin once and stored nowhere. */
  password: string
  /** True when the person had no portal password before. */
  first: boolean
  endedSessions: number
}

/**
 * An admin gives a person a one-time portal password: the first one, or a
 * new one when the old is forgotten. The person must replace it at the next
 * sign-in; every running portal session ends, the lockout is lifted, and the
 * second factor can be turned off for someone who lost their phone.
 */
export class SetPortalPassword {
  async handle(
    personPublicId: string,
    options: { clearSecondFactor: boolean },
    actor: AuditActor
  ): Promise<Result<SetPortalPasswordResult, 'not_found'>> {
    const person = await Person.findBy('public_id', personPublicId.toUpperCase())
    if (!person) return fail('not_found')
    const password = generateInitialPassword()
    const passwordHash = await hashPortalPassword(password)
    const result = await db.transaction(async (trx) => {
      const existing = await PortalCredential.query({ client: trx })
        .where('person_id', person.id)
        .first()
      const credential = existing ?? new PortalCredential()
      credential.useTransaction(trx)
      const hadSecondFactor = existing?.totpEnabled ?? false
      credential.personId = person.id
      credential.passwordHash = passwordHash
      credential.mustChangePassword = true
      credential.passwordChangedAt = DateTime.utc()
      credential.failedCount = 0
      credential.lockedUntil = null
      if (options.clearSecondFactor || !existing) {
        credential.totpSecret = null
        credential.totpEnabledAt = null
        credential.totpLastStep = null
      }
      await credential.save()
      const endedSessions = await endPersonPortalSessions(person.id, 'revoked', { trx })
      await recordAudit(
        actor,
        {
          action: 'portal.password_set',
          subjectType: 'person',
          subjectId: person.publicId,
          meta: {
            first: !existing,
            secondFactorCleared: hadSecondFactor && options.clearSecondFactor,
            endedSessions,
          },
        },
        trx
      )
      return { person, password, first: !existing, endedSessions }
    })
    await clearPortalFailures(person.personNo)
    return ok(result)
  }
}
