import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import { challengeForBrowser } from '#identity/services/portal_qr'
import {
  personMaySignIn,
  sqlTime,
  type StartedPortalSession,
} from '#identity/services/portal_sessions'
import { CompletePortalSignIn } from '#identity/actions/portal_complete_sign_in'
import type { RequestOrigin } from '#identity/actions/portal_sign_in'

/** What the desktop's poll learns. */
export type QrLoginState =
  | { status: 'pending' | 'scanned' | 'rejected' | 'expired' }
  | { status: 'signed_in'; started: StartedPortalSession }

/**
 * The desktop polls with the cookie its challenge is bound to. Once a phone
 * has approved, the first poll redeems the challenge (a conditional UPDATE,
 * so exactly once) and starts the desktop's portal session.
 */
export class RedeemQrLogin {
  async handle(
    browserBinding: unknown,
    origin: RequestOrigin
  ): Promise<Result<QrLoginState, 'unknown'>> {
    const challenge = await challengeForBrowser(browserBinding)
    if (!challenge || challenge.status === 'redeemed') return fail('unknown')
    const now = DateTime.utc()
    if (challenge.status === 'rejected') return ok({ status: 'rejected' })
    if (challenge.isExpired(now)) return ok({ status: 'expired' })
    if (challenge.status !== 'approved') return ok({ status: challenge.status })

    const changed = await db
      .from('portal_qr_challenges')
      .where('id', challenge.id)
      .where('status', 'approved')
      .update({ status: 'redeemed', redeemed_at: sqlTime(now) })
    if (Number(Array.isArray(changed) ? changed[0] : changed) === 0) return fail('unknown')
    const person = challenge.personId ? await Person.find(challenge.personId) : null
    if (!person || !personMaySignIn(person)) return ok({ status: 'rejected' })
    const started = await new CompletePortalSignIn().handle(person, {
      ...origin,
      method: 'qr',
      secondFactorPassed: challenge.secondFactorPassed,
    })
    return ok({ status: 'signed_in', started })
  }
}
