import { once } from 'node:events'
import type { HttpContext } from '@adonisjs/core/http'
import { bindOidcRequest, oidcProvider } from '#app_center/services/oidc_provider'
import { portalIdentity, portalSignInUrl } from '#app_center/http/portal_gate'
import { pageSecurityHeaders, providerRequest } from '#app_center/http/oidc_request'

/** A user code as a person may type it: letters, digits and hyphens. */
const USER_CODE = /^[A-Za-z0-9-]{1,16}$/

/**
 * Every request under /oidc goes to the OpenID Connect provider, which
 * answers it on the raw Node response. This adapter gives the provider the
 * portal identity and a page renderer for the request.
 */
export default class OidcController {
  async handle(ctx: HttpContext) {
    const { request, response, session } = ctx
    const portal = await portalIdentity(ctx)

    // A person types a device's code in the portal: signed in first, so that
    // the code page is theirs and the sign-in after it needs no detour.
    if (request.method() === 'GET' && request.url() === '/oidc/device' && !portal) {
      const code = request.qs().user_code
      const next =
        typeof code === 'string' && USER_CODE.test(code)
          ? `/portal/device/${code}`
          : '/portal/device'
      return response.redirect(portalSignInUrl(next))
    }

    // Relying parties call the token, userinfo and introspection endpoints
    // from their servers: they get no console session row.
    if (session.fresh) session.clear()

    const res = response.response
    bindOidcRequest(res, {
      portal,
      render: (page, data) => ctx.view.render(page, data),
      pageHeaders: pageSecurityHeaders(ctx),
    })
    const forwarded = providerRequest(ctx)
    try {
      await oidcProvider().callback()(forwarded.req, res)
    } finally {
      forwarded.restore()
    }
    // The provider has answered; AdonisJS must not write a second response.
    if (!res.headersSent) await once(res, 'finish')
  }
}
