import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import PortalCredential from '#identity/models/portal_credential'
import { checkPortalPassword } from '#identity/services/portal_passwords'

/**
 * A person turns the second factor off. The password is asked again, so
 * that someone holding only an open session cannot weaken the account.
 */
export class DisablePortalTotp {
  async handle(
    person: { id: number; publicId: string },
    currentPassword: string,
    actor: AuditActor
  ): Promise<Result<true, 'wrong_password' | 'no_account'>> {
    const credential = await PortalCredential.findBy('person_id', person.id)
    if (!credential) return fail('no_account')
    if (!(await checkPortalPassword(credential.passwordHash, currentPassword))) {
      return fail('wrong_password')
    }
    await db.transaction(async (trx) => {
      credential.useTransaction(trx)
      credential.totpSecret = null
      credential.totpEnabledAt = null
      credential.totpLastStep = null
      await credential.save()
      await recordAudit(
        actor,
        { action: 'portal.totp_disabled', subjectType: 'person', subjectId: person.publicId },
        trx
      )
    })
    return ok(true as const)
  }
}
