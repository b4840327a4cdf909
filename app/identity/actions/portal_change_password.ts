import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import { clearPortalFailures } from '#identity/services/portal_lockout'
import {
  checkPortalPassword,
  hashPortalPassword,
  portalPasswordProblems,
  type PortalPasswordProblem,
} from '#identity/services/portal_passwords'
import { endPersonPortalSessions } from '#identity/services/portal_sessions'

export type ChangePortalPasswordError = 'no_account' | 'wrong_password' | 'weak_password'

export interface ChangePortalPasswordInput {
  personId: number
  newPassword: string
  /**
   * The current password, checked here; null when the caller verified it
   * moments ago itself (the first-sign-in step after the password form).
   */
  currentPassword: string | null
  /** The session to keep (the one making the change); every other one ends. */
  keepSessionId?: number
}

/**
 * A person chooses a new portal password. Every other session of theirs
 * ends: whoever might have had the old password is signed out everywhere.
 */
export class ChangePortalPassword {
  async handle(
    input: ChangePortalPasswordInput,
    actor: AuditActor
  ): Promise<Result<{ endedSessions: number }, ChangePortalPasswordError>> {
    const person = await Person.find(input.personId)
    const credential = person ? await PortalCredential.findBy('person_id', person.id) : null
    if (!person || !credential) return fail('no_account')
    if (
      input.currentPassword !== null &&
      !(await checkPortalPassword(credential.passwordHash, input.currentPassword))
    ) {
      await recordAudit(actor, {
        action: 'portal.password_change_refused',
        subjectType: 'person',
        subjectId: person.publicId,
        outcome: 'failure',
      })
      return fail('wrong_password')
    }
    const problems: PortalPasswordProblem[] = portalPasswordProblems(
      input.newPassword,
      person.personNo
    )
    if (!problems.length && (await checkPortalPassword(credential.passwordHash, input.newPassword)))
      problems.push('same_as_current')
    if (problems.length) return fail('weak_password', { problems })

    const passwordHash = await hashPortalPassword(input.newPassword)
    const endedSessions = await db.transaction(async (trx) => {
      credential.useTransaction(trx)
      const wasRequired = credential.mustChangePassword
      credential.passwordHash = passwordHash
      credential.mustChangePassword = false
      credential.passwordChangedAt = DateTime.utc()
      credential.failedCount = 0
      credential.lockedUntil = null
      await credential.save()
      const ended = await endPersonPortalSessions(person.id, 'password_changed', {
        exceptSessionId: input.keepSessionId,
        trx,
      })
      await recordAudit(
        actor,
        {
          action: 'portal.password_changed',
          subjectType: 'person',
          subjectId: person.publicId,
          meta: { required: wasRequired, endedSessions: ended },
        },
        trx
      )
      return ended
    })
    await clearPortalFailures(person.personNo)
    return ok({ endedSessions })
  }
}
