import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import PortalSession from '#identity/models/portal_session'
import { endPersonPortalSessions, endPortalSession } from '#identity/services/portal_sessions'

/** Which sessions of a person to end. */
export type SessionsToEnd =
  /** The person signs out of the browser they are using. */
  | { kind: 'current'; sessionPublicId: string }
  /** One other device, from the devices page. */
  | { kind: 'one'; sessionPublicId: string }
  /** Every session but the one making the request (or all, from the console). */
  | { kind: 'all_but'; keepSessionId: number | null }

/**
 * Ends portal sessions of one person and records it: sign-out for the
 * current browser, `portal.session_revoked` for remote sign-outs.
 */
export class EndPortalSessions {
  async handle(
    person: { id: number; publicId: string },
    which: SessionsToEnd,
    actor: AuditActor
  ): Promise<Result<{ ended: number }, 'not_found'>> {
    return db.transaction(async (trx) => {
      let ended = 0
      if (which.kind === 'all_but') {
        ended = await endPersonPortalSessions(person.id, 'revoked', {
          exceptSessionId: which.keepSessionId ?? undefined,
          trx,
        })
      } else {
        // A person can only end their own sessions, whatever id is posted.
        const session = await PortalSession.query({ client: trx })
          .where('public_id', which.sessionPublicId)
          .where('person_id', person.id)
          .first()
        if (!session) return fail('not_found')
        const reason = which.kind === 'current' ? 'signed_out' : 'revoked'
        ended = (await endPortalSession(session.publicId, reason, trx)) ? 1 : 0
      }
      await recordAudit(
        actor,
        {
          action: which.kind === 'current' ? 'portal.sign_out' : 'portal.session_revoked',
          subjectType: 'person',
          subjectId: person.publicId,
          meta:
            which.kind === 'all_but'
              ? { scope: which.keepSessionId === null ? 'all' : 'others', ended }
              : { session: which.sessionPublicId, ended },
        },
        trx
      )
      return ok({ ended })
    })
  }
}
