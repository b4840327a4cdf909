import { DateTime } from 'luxon'
import encryption from '@adonisjs/core/services/encryption'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { verifyTotp } from '#core/services/totp'
import PortalCredential from '#identity/models/portal_credential'

/**
 * A person turns on the TOTP second factor: the code from their app proves
 * that it holds the secret shown to them. From then on every password
 * sign-in asks for a code.
 */
export class EnablePortalTotp {
  async handle(
    person: { id: number; publicId: string },
    secret: string,
    code: string,
    actor: AuditActor
  ): Promise<Result<true, 'invalid_code' | 'no_account'>> {
    const step = verifyTotp(secret, code)
    if (step === null) return fail('invalid_code')
    return db.transaction(async (trx) => {
      const credential = await PortalCredential.query({ client: trx })
        .where('person_id', person.id)
        .first()
      if (!credential) return fail('no_account')
      credential.totpSecret = encryption.encrypt(secret)
      credential.totpEnabledAt = DateTime.utc()
      credential.totpLastStep = step
      await credential.save()
      await recordAudit(
        actor,
        { action: 'portal.totp_enabled', subjectType: 'person', subjectId: person.publicId },
        trx
      )
      return ok(true as const)
    })
  }
}
