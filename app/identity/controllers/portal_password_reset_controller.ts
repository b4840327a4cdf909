import type { HttpContext } from '@adonisjs/core/http'
import { RequestPortalPasswordReset } from '#identity/actions/portal_request_password_reset'
import { ResetPortalPassword, usablePasswordReset } from '#identity/actions/portal_reset_password'
import { requestOrigin } from '#identity/http/portal_session'
import { passwordProblemsBag } from '#identity/http/portal_forms'
import { mailConfigured } from '#identity/services/portal_mail'
import { PORTAL_PASSWORD_MIN_LENGTH } from '#identity/services/portal_passwords'
import { portalForgotValidator, portalNewPasswordValidator } from '#identity/validators/portal'

/**
 * Forgotten password, by e-mail. Exists only where outgoing mail is set up;
 * elsewhere the sign-in page tells people to ask the office, whose admins
 * set a new one-time password in the console.
 */
export default class PortalPasswordResetController {
  async create(ctx: HttpContext) {
    if (!mailConfigured()) return notFound(ctx)
    return ctx.view.render('pages/portal/forgot')
  }

  async store(ctx: HttpContext) {
    if (!mailConfigured()) return notFound(ctx)
    const { personNo } = await ctx.request.validateUsing(portalForgotValidator)
    await new RequestPortalPasswordReset().handle(personNo, {
      ...requestOrigin(ctx),
      locale: ctx.i18n.locale,
    })
    // The same answer whether or not anything was sent.
    ctx.session.flash('notice', ctx.i18n.t('portal.reset.sent'))
    return ctx.response.redirect('/portal/login')
  }

  async edit(ctx: HttpContext) {
    noLeaks(ctx)
    const found = await usablePasswordReset(ctx.params.token)
    if (!found) return ctx.view.render('pages/portal/reset', { valid: false })
    return ctx.view.render('pages/portal/reset', {
      valid: true,
      token: ctx.params.token,
      minLength: PORTAL_PASSWORD_MIN_LENGTH,
    })
  }

  async update(ctx: HttpContext) {
    noLeaks(ctx)
    const token = String(ctx.params.token)
    const { newPassword } = await ctx.request.validateUsing(portalNewPasswordValidator)
    const result = await new ResetPortalPassword().handle(token, newPassword, requestOrigin(ctx))
    if (!result.ok) {
      if (result.error === 'weak_password') {
        ctx.session.flash('inputErrorsBag', passwordProblemsBag(ctx, result.details))
        ctx.session.flash('error', ctx.i18n.t('portal.password.not_changed'))
        return ctx.response.redirect(`/portal/password/reset/${token}`)
      }
      return ctx.view.render('pages/portal/reset', { valid: false })
    }
    ctx.session.flash('notice', ctx.i18n.t('portal.reset.done'))
    return ctx.response.redirect('/portal/login')
  }
}

/** The link's token is in the address: keep it out of caches and Referer headers. */
function noLeaks(ctx: HttpContext) {
  ctx.response.header('Cache-Control', 'no-store')
  ctx.response.header('Referrer-Policy', 'no-referrer')
}

function notFound(ctx: HttpContext) {
  ctx.response.status(404)
  return ctx.view.render('pages/errors/status', { status: 404 })
}
