import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import quadConfig from '#config/quad'
import { recordAudit } from '#core/services/audit'
import { actorFrom } from '#core/http/actor'

const LAST_SEEN = 'quad.last_seen_at'

/**
 * Console pages need a signed-in, enabled account with console access. A
 * session idle for longer than QUAD_IDLE_TIMEOUT is ended on the server.
 */
export default class AuthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    await ctx.auth.authenticateUsing(['web'], { loginRoute: '/login' })
    const user = ctx.auth.getUserOrFail()
    const now = Date.now()
    const lastSeen = Number(ctx.session.get(LAST_SEEN, now))
    const idle = now - lastSeen > quadConfig.idleTimeoutSeconds * 1000
    if (idle || !user.can('console.access')) {
      await recordAudit(actorFrom(ctx), {
        action: idle ? 'auth.session_expired' : 'auth.session_refused',
        subjectType: 'user',
        subjectId: user.publicId,
        outcome: idle ? 'success' : 'denied',
      })
      await ctx.auth.use('web').logout()
      ctx.session.clear()
      ctx.session.flash(
        'notice',
        ctx.i18n.t(idle ? 'core.auth.session_expired' : 'core.auth.account_disabled')
      )
      return ctx.response.redirect('/login')
    }
    ctx.session.put(LAST_SEEN, now)
    return next()
  }
}
