import app from '@adonisjs/core/services/app'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import type { HttpError, StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { errors as shieldErrors } from '@adonisjs/shield'
import { errors as limiterErrors } from '@adonisjs/limiter'
import { errors as bouncerErrors } from '@adonisjs/bouncer'
import { recordAudit } from '#core/services/audit'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { renderApiError } from '#core/http/api_errors'

export default class HttpExceptionHandler extends ExceptionHandler {
  protected debug = !app.inProduction && !app.inTest

  protected renderStatusPages = app.inProduction || app.inTest

  protected statusPages: Record<StatusPageRange, StatusPageRenderer> = {
    '403': (_, { view }) => view.render('pages/errors/status', { status: 403 }),
    '404': (_, { view }) => view.render('pages/errors/status', { status: 404 }),
    '500..599': (_, { view }) => view.render('pages/errors/status', { status: 500 }),
  }

  async handle(error: unknown, ctx: HttpContext) {
    // The integration API answers every failure in its own JSON shape.
    if (ctx.request.url().startsWith('/api/')) return renderApiError(error, ctx)
    // A form posted without a valid CSRF token changes nothing. Record it,
    // because a forged cross-site post against an admin is worth knowing about.
    if (error instanceof shieldErrors.E_BAD_CSRF_TOKEN) {
      await recordAudit(actorFrom(ctx), {
        action: 'security.csrf_rejected',
        outcome: 'denied',
        meta: { method: ctx.request.method(), path: ctx.request.url() },
      })
      if (ctx.request.accepts(['html', 'json']) === 'json') {
        return ctx.response.status(403).send({ error: 'csrf_token_invalid' })
      }
      ctx.session?.flash('error', ctx.i18n ? ctx.i18n.t('core.errors.csrf') : 'Form expired')
      return ctx.response.status(403).redirect().back()
    }
    // A signed-in account asked for something its role does not grant: a 403
    // page (never a redirect that looks like success), recorded for auditors.
    if (error instanceof bouncerErrors.E_AUTHORIZATION_FAILURE) {
      await recordAudit(actorFrom(ctx), {
        action: 'security.forbidden',
        outcome: 'denied',
        meta: { method: ctx.request.method(), path: ctx.request.url() },
      })
      ctx.response.status(403)
      if (ctx.request.accepts(['html', 'json']) === 'json') {
        return ctx.response.send({ error: 'forbidden' })
      }
      return ctx.response.send(await ctx.view.render('pages/errors/status', { status: 403 }))
    }
    // Too many attempts: a page in the user's language, with Retry-After.
    if (error instanceof limiterErrors.E_TOO_MANY_REQUESTS) {
      const headers = error.getDefaultHeaders()
      for (const [name, value] of Object.entries(headers)) ctx.response.header(name, value)
      ctx.response.status(429)
      if (ctx.request.accepts(['html', 'json']) === 'json') {
        return ctx.response.send({ error: 'too_many_requests', retryAfter: headers['Retry-After'] })
      }
      return ctx.response.send(await ctx.view.render('pages/errors/status', { status: 429 }))
    }
    return super.handle(error, ctx)
  }

  async renderValidationErrorAsHTML(error: HttpError, ctx: HttpContext) {
    if (!ctx.session) return super.renderValidationErrorAsHTML(error, ctx)
    ctx.session.flashValidationErrors(error, false)
    ctx.session.flashExcept(NEVER_FLASHED)
    ctx.response.redirect('back', true)
  }

  async report(error: unknown, ctx: HttpContext) {
    return super.report(error, ctx)
  }
}
