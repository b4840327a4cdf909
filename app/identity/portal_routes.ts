/*
 * The portal (/portal): people's sign-in, home, "me" and devices pages, QR
 * login; and the console page where an admin sets a person's portal password.
 */
import router from '@adonisjs/core/services/router'
import limiter from '@adonisjs/limiter/services/main'
import quadConfig from '#config/quad'
import { middleware } from '#start/kernel'
import { addPortalTile } from '#identity/services/portal_home'

const PortalSessionController = () => import('#identity/controllers/portal_session_controller')
const PortalQrController = () => import('#identity/controllers/portal_qr_controller')
const PortalHomeController = () => import('#identity/controllers/portal_home_controller')
const PortalMeController = () => import('#identity/controllers/portal_me_controller')
const PortalDevicesController = () => import('#identity/controllers/portal_devices_controller')
const PortalPasswordResetController = () =>
  import('#identity/controllers/portal_password_reset_controller')
const PortalAccountsController = () => import('#identity/controllers/portal_accounts_controller')

/**
 * Portal sign-in forms, per client address. Separate from the console's
 * limit and higher by default: a campus NAT puts many phones behind one
 * address. Lockout per person number is the real guard against guessing.
 */
const portalThrottle = limiter.define('portal_login', (ctx) =>
  limiter
    .allowRequests(quadConfig.portal.loginRateLimitPerMinute)
    .every('1 minute')
    .usingKey(`portal_ip_${ctx.request.ip()}`)
)

/*
 * Home tiles that later modules fill: cards bring the campus code, the
 * ledger the balance, the app center the service hall, messaging the
 * notices. Each re-registers its id with a link and a summary.
 */
const comingSoon = () => ({ key: 'portal.tiles.coming_soon' })
addPortalTile({
  id: 'campus_code',
  label: 'portal.tiles.campus_code',
  icon: 'card',
  href: null,
  order: 10,
  wide: true,
  summary: comingSoon,
})
addPortalTile({
  id: 'balance',
  label: 'portal.tiles.balance',
  icon: 'money',
  href: null,
  order: 20,
  summary: comingSoon,
})
addPortalTile({
  id: 'service_hall',
  label: 'portal.tiles.service_hall',
  icon: 'apps',
  href: null,
  order: 30,
  summary: comingSoon,
})
addPortalTile({
  id: 'notices',
  label: 'portal.tiles.notices',
  icon: 'message',
  href: null,
  order: 40,
  summary: comingSoon,
})

router
  .group(() => {
    router.get('/login', [PortalSessionController, 'create']).as('portal.login')
    router.post('/login', [PortalSessionController, 'store']).use(portalThrottle)
    router.get('/login/totp', [PortalSessionController, 'showSecondFactor'])
    router.post('/login/totp', [PortalSessionController, 'verifySecondFactor']).use(portalThrottle)
    router.get('/login/password', [PortalSessionController, 'showNewPassword'])
    router
      .post('/login/password', [PortalSessionController, 'storeNewPassword'])
      .use(portalThrottle)
    router.post('/login/qr', [PortalQrController, 'start'])
    router.post('/login/qr/status', [PortalQrController, 'poll'])
    router.get('/password/forgot', [PortalPasswordResetController, 'create'])
    router.post('/password/forgot', [PortalPasswordResetController, 'store']).use(portalThrottle)
    router.get('/password/reset/:token', [PortalPasswordResetController, 'edit'])
    router
      .post('/password/reset/:token', [PortalPasswordResetController, 'update'])
      .use(portalThrottle)
  })
  .prefix('/portal')

router
  .group(() => {
    router.get('/', [PortalHomeController, 'index']).as('portal.home')
    router.get('/me', [PortalMeController, 'show']).as('portal.me')
    router.get('/me/security', [PortalMeController, 'security']).as('portal.security')
    router.post('/me/password', [PortalMeController, 'changePassword']).use(portalThrottle)
    router.get('/me/totp', [PortalMeController, 'totpSetup'])
    router.post('/me/totp', [PortalMeController, 'totpEnable']).use(portalThrottle)
    router.post('/me/totp/disable', [PortalMeController, 'totpDisable']).use(portalThrottle)
    router.get('/me/devices', [PortalDevicesController, 'index']).as('portal.devices')
    router.post('/me/devices/others/sign-out', [PortalDevicesController, 'signOutOthers'])
    router.post('/me/devices/:publicId/sign-out', [PortalDevicesController, 'signOut'])
    router.post('/logout', [PortalSessionController, 'destroy']).as('portal.logout')
    router.get('/qr/:token', [PortalQrController, 'review'])
    router.post('/qr/:token/approve', [PortalQrController, 'approve'])
    router.post('/qr/:token/reject', [PortalQrController, 'reject'])
  })
  .prefix('/portal')
  .use(middleware.portalAuth())

router
  .group(() => {
    router.get('/people/:publicId/portal-account', [PortalAccountsController, 'show'])
    router.post('/people/:publicId/portal-account/password', [
      PortalAccountsController,
      'setPassword',
    ])
    router.post('/people/:publicId/portal-account/sign-out', [
      PortalAccountsController,
      'signOutAll',
    ])
  })
  .prefix('/console')
  .use(middleware.auth())
