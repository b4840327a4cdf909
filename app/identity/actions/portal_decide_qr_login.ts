import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type Person from '#identity/models/person'
import type PortalQrChallenge from '#identity/models/portal_qr_challenge'
import type PortalSession from '#identity/models/portal_session'
import { challengeByToken } from '#identity/services/portal_qr'
import { sqlTime } from '#identity/services/portal_sessions'

export type QrDecision = 'approve' | 'reject'
export type DecideQrLoginError = 'not_found' | 'expired' | 'already_decided'

/**
 * A signed-in phone approves or rejects the desktop sign-in its QR code
 * asked for. The desktop then starts a session for the approving person
 * (with the second factor as the phone's session had it) or shows the
 * refusal. Only an open challenge can be decided, and only once.
 */
export class DecideQrLogin {
  async handle(
    token: string,
    decision: QrDecision,
    approver: { person: Person; session: PortalSession },
    actor: AuditActor
  ): Promise<Result<PortalQrChallenge, DecideQrLoginError>> {
    const challenge = await challengeByToken(token)
    if (!challenge) return fail('not_found')
    const now = DateTime.utc()
    if (challenge.isExpired(now)) return fail('expired')
    return db.transaction(async (trx) => {
      const status = decision === 'approve' ? 'approved' : 'rejected'
      const changed = await trx
        .from('portal_qr_challenges')
        .where('id', challenge.id)
        .whereIn('status', ['pending', 'scanned'])
        .update({
          status,
          person_id: approver.person.id,
          second_factor_passed: approver.session.secondFactorPassed,
          decided_at: sqlTime(now, trx),
        })
      if (Number(Array.isArray(changed) ? changed[0] : changed) === 0) {
        return fail('already_decided')
      }
      await recordAudit(
        actor,
        {
          action: decision === 'approve' ? 'portal.qr_login_approved' : 'portal.qr_login_rejected',
          subjectType: 'person',
          subjectId: approver.person.publicId,
          meta: {
            challenge: challenge.publicId,
            desktopIp: challenge.desktopIp,
            desktop: challenge.desktopLabel,
            approvingSession: approver.session.publicId,
          },
        },
        trx
      )
      challenge.status = status
      return ok(challenge)
    })
  }
}
