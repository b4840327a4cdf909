import type { HttpContext } from '@adonisjs/core/http'
import encryption from '@adonisjs/core/services/encryption'
import QRCode from 'qrcode'
import PortalCredential from '#identity/models/portal_credential'
import { ChangePortalPassword } from '#identity/actions/portal_change_password'
import { EnablePortalTotp } from '#identity/actions/portal_enable_totp'
import { DisablePortalTotp } from '#identity/actions/portal_disable_totp'
import { portalActorFrom } from '#identity/http/portal_session'
import { passwordProblemsBag } from '#identity/http/portal_forms'
import { orgUnitLineage } from '#identity/services/org_tree'
import { PORTAL_PASSWORD_MIN_LENGTH } from '#identity/services/portal_passwords'
import { generateTotpSecret, totpUri } from '#core/services/totp'
import { currentSchool } from '#appliance/services/school_settings'
import {
  portalChangePasswordValidator,
  portalCodeValidator,
  portalCurrentPasswordValidator,
} from '#identity/validators/portal'

/** A TOTP secret being enrolled: encrypted, so the sessions table never holds it in clear. */
const ENROLL = 'portal.totp_enroll'
const ENROLL_TTL_MS = 10 * 60 * 1000

interface Enrolling {
  secret: string
  at: number
}

/** "a***@school.edu.cn": enough to recognise one's own address. */
function maskEmail(email: string | null): string | null {
  if (!email) return null
  const at = email.indexOf('@')
  if (at <= 0) return email
  return `${email[0]}${'*'.repeat(Math.max(1, Math.min(at - 1, 6)))}${email.slice(at)}`
}

/** "Me": the profile, and the security page (password, second factor). */
export default class PortalMeController {
  async show(ctx: HttpContext) {
    const { person } = ctx.portal!
    await person.load('orgUnit')
    const lineage = await orgUnitLineage(person.orgUnit)
    return ctx.view.render('pages/portal/me', {
      lineage: lineage.map((unit) => unit.name),
      emailMasked: maskEmail(person.email),
    })
  }

  async security(ctx: HttpContext) {
    const { person } = ctx.portal!
    const credential = await PortalCredential.findByOrFail('person_id', person.id)
    return ctx.view.render('pages/portal/security', {
      credential,
      minLength: PORTAL_PASSWORD_MIN_LENGTH,
    })
  }

  async changePassword(ctx: HttpContext) {
    const { person, session } = ctx.portal!
    const input = await ctx.request.validateUsing(portalChangePasswordValidator)
    const result = await new ChangePortalPassword().handle(
      {
        personId: person.id,
        currentPassword: input.currentPassword,
        newPassword: input.newPassword,
        keepSessionId: session.id,
      },
      portalActorFrom(ctx, person)
    )
    if (!result.ok) {
      if (result.error === 'wrong_password') {
        ctx.session.flash('inputErrorsBag', {
          currentPassword: [ctx.i18n.t('portal.password.wrong_current')],
        })
      } else if (result.error === 'weak_password') {
        ctx.session.flash('inputErrorsBag', passwordProblemsBag(ctx, result.details))
      }
      ctx.session.flash('error', ctx.i18n.t('portal.password.not_changed'))
      return ctx.response.redirect('/portal/me/security')
    }
    ctx.session.flash(
      'notice',
      ctx.i18n.t(
        result.value.endedSessions
          ? 'portal.password.changed_others_signed_out'
          : 'portal.password.changed',
        { count: result.value.endedSessions }
      )
    )
    return ctx.response.redirect('/portal/me/security')
  }

  /** Shows a new secret as a QR code for the authenticator app. */
  async totpSetup(ctx: HttpContext) {
    const { person } = ctx.portal!
    const credential = await PortalCredential.findByOrFail('person_id', person.id)
    if (credential.totpEnabled) return ctx.response.redirect('/portal/me/security')
    let secret = this.enrolling(ctx)
    if (!secret) {
      secret = generateTotpSecret()
      ctx.session.put(ENROLL, encryption.encrypt({ secret, at: Date.now() } satisfies Enrolling))
    }
    const school = await currentSchool()
    const uri = totpUri(secret, person.personNo, `${school?.name ?? 'Quad'}`)
    const qrSvg = await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
    return ctx.view.render('pages/portal/totp_enroll', { qrSvg, secret })
  }

  private enrolling(ctx: HttpContext): string | null {
    const stored = ctx.session.get(ENROLL) as string | undefined
    const enrolling = stored ? encryption.decrypt<Enrolling>(stored) : null
    if (!enrolling || Date.now() - enrolling.at > ENROLL_TTL_MS) return null
    return enrolling.secret
  }

  async totpEnable(ctx: HttpContext) {
    const { person } = ctx.portal!
    const secret = this.enrolling(ctx)
    if (!secret) {
      ctx.session.flash('error', ctx.i18n.t('portal.totp.enroll_expired'))
      return ctx.response.redirect('/portal/me/totp')
    }
    const { code } = await ctx.request.validateUsing(portalCodeValidator)
    const result = await new EnablePortalTotp().handle(
      person,
      secret,
      code,
      portalActorFrom(ctx, person)
    )
    if (!result.ok) {
      ctx.session.flash('error', ctx.i18n.t('portal.totp.invalid_code'))
      return ctx.response.redirect('/portal/me/totp')
    }
    ctx.session.forget(ENROLL)
    ctx.session.flash('notice', ctx.i18n.t('portal.totp.enabled'))
    return ctx.response.redirect('/portal/me/security')
  }

  async totpDisable(ctx: HttpContext) {
    const { person } = ctx.portal!
    const { currentPassword } = await ctx.request.validateUsing(portalCurrentPasswordValidator)
    const result = await new DisablePortalTotp().handle(
      person,
      currentPassword,
      portalActorFrom(ctx, person)
    )
    if (!result.ok) {
      ctx.session.flash('error', ctx.i18n.t('portal.password.wrong_current'))
      return ctx.response.redirect('/portal/me/security')
    }
    ctx.session.flash('notice', ctx.i18n.t('portal.totp.disabled'))
    return ctx.response.redirect('/portal/me/security')
  }
}
