import { defineConfig } from '@adonisjs/shield'
import { tlsEnabled } from '#appliance/services/https_server'

/**
 * Every asset is served by Quad itself, so the content security policy allows
 * only the appliance's own origin. Inline styles are allowed for the SVG charts'
 * computed widths; inline scripts are not.
 */
const shieldConfig = defineConfig({
  csp: {
    enabled: true,
    directives: {
      defaultSrc: [`'self'`],
      scriptSrc: [`'self'`],
      styleSrc: [`'self'`, `'unsafe-inline'`],
      imgSrc: [`'self'`, 'data:'],
      fontSrc: [`'self'`],
      connectSrc: [`'self'`],
      formAction: [`'self'`],
      frameAncestors: [`'none'`],
      objectSrc: [`'none'`],
      baseUri: [`'self'`],
    },
    reportOnly: false,
  },
  csrf: {
    enabled: true,
    // The OpenID Connect provider checks its own forms (an xsrf value tied to
    // its session) and its back-channel endpoints authenticate the client.
    exceptRoutes: (ctx) =>
      ctx.request.url().startsWith('/api/') || ctx.request.url().startsWith('/oidc/'),
    enableXsrfCookie: false,
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  },
  xFrame: { enabled: true, action: 'DENY' },
  hsts: { enabled: tlsEnabled(), maxAge: '180 days' },
  contentTypeSniffing: { enabled: true },
})

export default shieldConfig
