import type { HttpContext } from '@adonisjs/core/http'
import { NEVER_FLASHED } from '#core/http/flash'
import Person from '#identity/models/person'
import { PortalSignIn } from '#identity/actions/portal_sign_in'
import { PortalVerifySecondFactor } from '#identity/actions/portal_verify_second_factor'
import { ChangePortalPassword } from '#identity/actions/portal_change_password'
import { CompletePortalSignIn } from '#identity/actions/portal_complete_sign_in'
import { EndPortalSessions } from '#identity/actions/portal_end_sessions'
import {
  clearPortalCookie,
  currentPortalSession,
  portalActorFrom,
  requestOrigin,
  safePortalNext,
  setPortalCookie,
} from '#identity/http/portal_session'
import { passwordProblemsBag } from '#identity/http/portal_forms'
import { mailConfigured } from '#identity/services/portal_mail'
import { PORTAL_PASSWORD_MIN_LENGTH } from '#identity/services/portal_passwords'
import {
  portalCodeValidator,
  portalNewPasswordValidator,
  portalSignInValidator,
} from '#identity/validators/portal'

/**
 * Between the password and the session: which steps remain. Kept in the
 * (server-side) session for five minutes; holds no secret.
 */
const PENDING = 'portal.pending'
const PENDING_TTL_MS = 5 * 60 * 1000

interface Pending {
  personId: number
  at: number
  remember: boolean
  next: string | null
  needsSecondFactor: boolean
  secondFactorDone: boolean
  needsNewPassword: boolean
}

function pendingOf(ctx: HttpContext): Pending | null {
  const pending = ctx.session.get(PENDING) as Pending | undefined
  if (!pending || Date.now() - pending.at > PENDING_TTL_MS) return null
  return pending
}

function loginPath(next: string | null) {
  return next ? `/portal/login?next=${encodeURIComponent(next)}` : '/portal/login'
}

/** Portal sign-in (password, optional TOTP, first-time password) and sign-out. */
export default class PortalSessionController {
  async create(ctx: HttpContext) {
    const next = safePortalNext(ctx.request.input('next'))
    if (await currentPortalSession(ctx)) return ctx.response.redirect(next ?? '/portal')
    return ctx.view.render('pages/portal/login', { next, mailEnabled: mailConfigured() })
  }

  async store(ctx: HttpContext) {
    const { request, response, session, i18n } = ctx
    const input = await request.validateUsing(portalSignInValidator)
    const next = safePortalNext(input.next)
    const result = await new PortalSignIn().handle(
      input.personNo,
      input.password,
      requestOrigin(ctx)
    )
    if (!result.ok) {
      session.flashExcept(NEVER_FLASHED)
      session.flash('error', i18n.t(`portal.login.${result.error}`))
      return response.redirect(loginPath(next))
    }
    const { person, needsSecondFactor, needsNewPassword } = result.value
    return this.advance(ctx, {
      personId: person.id,
      at: Date.now(),
      remember: input.remember === true,
      next,
      needsSecondFactor,
      secondFactorDone: false,
      needsNewPassword,
    })
  }

  /** Sends the person to the next step, or starts the session when none is left. */
  private async advance(ctx: HttpContext, pending: Pending) {
    if (pending.needsSecondFactor && !pending.secondFactorDone) {
      ctx.session.put(PENDING, pending)
      return ctx.response.redirect('/portal/login/totp')
    }
    if (pending.needsNewPassword) {
      ctx.session.put(PENDING, pending)
      return ctx.response.redirect('/portal/login/password')
    }
    ctx.session.forget(PENDING)
    const person = await Person.findOrFail(pending.personId)
    const started = await new CompletePortalSignIn().handle(person, {
      ...requestOrigin(ctx),
      method: 'password',
      secondFactorPassed: pending.secondFactorDone,
      remember: pending.remember,
    })
    setPortalCookie(ctx, started)
    return ctx.response.redirect(pending.next ?? '/portal')
  }

  private expired(ctx: HttpContext) {
    ctx.session.forget(PENDING)
    ctx.session.flash('error', ctx.i18n.t('portal.login.step_expired'))
    return ctx.response.redirect('/portal/login')
  }

  async showSecondFactor(ctx: HttpContext) {
    const pending = pendingOf(ctx)
    if (!pending || !pending.needsSecondFactor || pending.secondFactorDone)
      return ctx.response.redirect('/portal/login')
    return ctx.view.render('pages/portal/totp')
  }

  async verifySecondFactor(ctx: HttpContext) {
    const pending = pendingOf(ctx)
    if (!pending || !pending.needsSecondFactor || pending.secondFactorDone) return this.expired(ctx)
    const { code } = await ctx.request.validateUsing(portalCodeValidator)
    const result = await new PortalVerifySecondFactor().handle(
      pending.personId,
      code,
      requestOrigin(ctx)
    )
    if (!result.ok) {
      if (result.error === 'locked') {
        ctx.session.forget(PENDING)
        ctx.session.flash('error', ctx.i18n.t('portal.login.locked'))
        return ctx.response.redirect('/portal/login')
      }
      ctx.session.flash('error', ctx.i18n.t('portal.totp.invalid_code'))
      return ctx.response.redirect('/portal/login/totp')
    }
    return this.advance(ctx, { ...pending, secondFactorDone: true, at: Date.now() })
  }

  async showNewPassword(ctx: HttpContext) {
    const pending = pendingOf(ctx)
    if (!pending || !pending.needsNewPassword) return ctx.response.redirect('/portal/login')
    return ctx.view.render('pages/portal/first_password', {
      minLength: PORTAL_PASSWORD_MIN_LENGTH,
    })
  }

  /** The first sign-in after an admin set the password: the person chooses their own. */
  async storeNewPassword(ctx: HttpContext) {
    const pending = pendingOf(ctx)
    if (!pending || !pending.needsNewPassword) return this.expired(ctx)
    const { newPassword } = await ctx.request.validateUsing(portalNewPasswordValidator)
    const person = await Person.findOrFail(pending.personId)
    const result = await new ChangePortalPassword().handle(
      { personId: person.id, newPassword, currentPassword: null },
      portalActorFrom(ctx, person)
    )
    if (!result.ok) {
      if (result.error === 'weak_password') {
        ctx.session.flash('inputErrorsBag', passwordProblemsBag(ctx, result.details))
        ctx.session.flash('error', ctx.i18n.t('portal.password.not_changed'))
        return ctx.response.redirect('/portal/login/password')
      }
      return this.expired(ctx)
    }
    ctx.session.flash('notice', ctx.i18n.t('portal.password.changed'))
    return this.advance(ctx, { ...pending, needsNewPassword: false })
  }

  async destroy(ctx: HttpContext) {
    const portal = ctx.portal!
    await new EndPortalSessions().handle(
      portal.person,
      { kind: 'current', sessionPublicId: portal.session.publicId },
      portalActorFrom(ctx, portal.person)
    )
    clearPortalCookie(ctx)
    ctx.session.forget(PENDING)
    ctx.session.flash('notice', ctx.i18n.t('portal.login.signed_out'))
    return ctx.response.redirect('/portal/login')
  }
}
