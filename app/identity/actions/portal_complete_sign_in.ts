import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit } from '#core/services/audit'
import type Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import type { PortalSignInMethod } from '#identity/models/portal_session'
import { clearPortalFailures } from '#identity/services/portal_lockout'
import {
  personActor,
  startPortalSession,
  type StartedPortalSession,
} from '#identity/services/portal_sessions'
import type { RequestOrigin } from '#identity/actions/portal_sign_in'

export interface CompleteSignInOptions extends RequestOrigin {
  method: PortalSignInMethod
  secondFactorPassed: boolean
  remember?: boolean
}

/**
 * The last step of every portal sign-in (password, TOTP, QR): starts the
 * session, clears the failure count and records the sign-in, together.
 */
export class CompletePortalSignIn {
  async handle(person: Person, options: CompleteSignInOptions): Promise<StartedPortalSession> {
    const now = DateTime.utc()
    const started = await db.transaction(async (trx) => {
      const session = await startPortalSession(person, { ...options, trx, now })
      const credential = await PortalCredential.query({ client: trx })
        .where('person_id', person.id)
        .first()
      if (credential) {
        credential.failedCount = 0
        credential.lockedUntil = null
        credential.lastSignInAt = now
        credential.lastSignInIp = options.ip ?? null
        await credential.save()
      }
      await recordAudit(
        personActor(person, options),
        {
          action: 'portal.sign_in',
          subjectType: 'person',
          subjectId: person.publicId,
          meta: {
            method: options.method,
            secondFactor: options.secondFactorPassed,
            remember: options.remember === true,
            session: session.session.publicId,
          },
        },
        trx
      )
      return session
    })
    await clearPortalFailures(person.personNo)
    return started
  }
}
