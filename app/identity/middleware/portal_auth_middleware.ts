import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import {
  clearPortalCookie,
  currentPortalSession,
  portalSessionProblem,
} from '#identity/http/portal_session'

/** Notices for a session that ended on its own, by reason. */
const ENDED_NOTICE: Record<string, string> = {
  idle: 'portal.session.ended_idle',
  expired: 'portal.session.ended_expired',
  revoked: 'portal.session.ended_revoked',
  password_changed: 'portal.session.ended_revoked',
  refused: 'portal.login.refused',
}

/**
 * Portal pages need a signed-in person. Without a usable portal session a
 * page request goes to the sign-in page (and comes back after it), a JSON
 * request gets 401. Sets `ctx.portal` and shares it with the views.
 */
export default class PortalAuthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const portal = await currentPortalSession(ctx)
    if (!portal) {
      const reason = await portalSessionProblem(ctx)
      if (reason !== 'none') clearPortalCookie(ctx)
      if (ctx.request.accepts(['html', 'json']) === 'json') {
        return ctx.response.status(401).send({ error: 'portal_sign_in_required' })
      }
      const notice = reason ? ENDED_NOTICE[reason] : undefined
      if (notice) ctx.session.flash(reason === 'refused' ? 'error' : 'notice', ctx.i18n.t(notice))
      const back = ctx.request.method() === 'GET' ? ctx.request.url(true) : null
      const query = back && back !== '/portal' ? `?next=${encodeURIComponent(back)}` : ''
      return ctx.response.redirect(`/portal/login${query}`)
    }
    ctx.portal = portal
    ctx.view.share({ portal })
    return next()
  }
}
