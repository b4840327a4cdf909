import { DateTime } from 'luxon'
import i18nManager from '@adonisjs/i18n/services/main'
import limiter from '@adonisjs/limiter/services/main'
import db from '@adonisjs/lucid/services/db'
import { recordAudit } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import PortalCredential from '#identity/models/portal_credential'
import PortalPasswordReset from '#identity/models/portal_password_reset'
import { findPersonBySignInName, type RequestOrigin } from '#identity/actions/portal_sign_in'
import { appLink, mailConfigured, queueMail } from '#identity/services/portal_mail'
import { newSecret, secretDigest } from '#identity/services/portal_secrets'
import { personMaySignIn, sqlTime } from '#identity/services/portal_sessions'
import { currentSchool } from '#appliance/services/school_settings'

/** A reset link works once, for this long. */
export const RESET_TOKEN_MINUTES = 30

/** Reset messages per person per hour, so that nobody can flood a mailbox. */
const RESETS_PER_HOUR = 3

/**
 * "Forgot password": when the sign-in name belongs to a person who has a
 * portal password and an e-mail address, a single-use link is mailed to
 * that address. The answer is the same in every case, so the form tells no
 * one which numbers exist or which have an address on file.
 */
export class RequestPortalPasswordReset {
  async handle(
    name: string,
    origin: RequestOrigin & { locale: string }
  ): Promise<Result<void, 'mail_not_configured'>> {
    if (!mailConfigured()) return fail('mail_not_configured')
    const person = await findPersonBySignInName(name)
    if (!person || !person.email || !personMaySignIn(person)) return ok(undefined)
    const credential = await PortalCredential.findBy('person_id', person.id)
    if (!credential) return ok(undefined)
    const allowed = await limiter
      .use('database', { requests: RESETS_PER_HOUR, duration: '1 hour' })
      .attempt(`portal_reset_${person.personNo}`, () => true)
    if (!allowed) return ok(undefined)

    const token = newSecret()
    const now = DateTime.utc()
    const expiresAt = now.plus({ minutes: RESET_TOKEN_MINUTES })
    const school = await currentSchool()
    const i18n = i18nManager.locale(origin.locale)
    const link = appLink(`/portal/password/reset/${token}`)
    const to = person.email
    await db.transaction(async (trx) => {
      // Only the newest link works: earlier ones are spent.
      await trx
        .from('portal_password_resets')
        .where('person_id', person.id)
        .whereNull('used_at')
        .update({ used_at: sqlTime(now, trx) })
      await PortalPasswordReset.create(
        {
          personId: person.id,
          tokenHash: secretDigest(token),
          requestedIp: origin.ip ?? null,
          expiresAt,
          createdAt: now,
        },
        { client: trx }
      )
      await queueMail(
        {
          kind: 'portal.password_reset',
          to,
          subject: i18n.t('portal.reset.mail_subject', { school: school?.name ?? 'Quad' }),
          text: i18n.t('portal.reset.mail_body', {
            name: person.name,
            link,
            minutes: RESET_TOKEN_MINUTES,
            school: school?.name ?? 'Quad',
          }),
          discardAfter: expiresAt,
        },
        trx
      )
      await recordAudit(
        { type: 'anonymous', name: person.personNo, ...origin },
        {
          action: 'portal.password_reset_requested',
          subjectType: 'person',
          subjectId: person.publicId,
        },
        trx
      )
    })
    return ok(undefined)
  }
}
