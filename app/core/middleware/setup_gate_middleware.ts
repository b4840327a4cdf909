import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { isSetUp } from '#appliance/services/school_settings'

/** Paths that work before the first-run setup: the wizard itself and probes. */
const OPEN_BEFORE_SETUP = ['/setup', '/healthz', '/readyz', '/metrics', '/lang/']

/**
 * Until a school exists, every page leads to the first-run wizard; once it
 * exists the wizard is closed for good.
 */
export default class SetupGateMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const path = ctx.request.url()
    const open = OPEN_BEFORE_SETUP.some((prefix) => path === prefix || path.startsWith(prefix))
    if (!open && !(await isSetUp())) {
      if (ctx.request.accepts(['html', 'json']) === 'json') {
        return ctx.response.status(503).send({ error: 'setup_required' })
      }
      return ctx.response.redirect('/setup')
    }
    return next()
  }
}
