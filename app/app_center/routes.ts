/*
 * The app center: the console's app registry (/console/apps), the portal's
 * service hall (/portal/apps), app icons, and the OpenID Connect provider
 * (/oidc) with its interaction pages (/portal/authorize).
 */
import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'
import { addPortalTile } from '#identity/services/portal_home'
import { PUBLIC_ID } from '#app_center/validators/app'
// The portal registers placeholder home tiles; loading it first lets the
// service hall's tile below replace its placeholder whatever the import order.
import '#identity/portal_routes'

const AppsController = () => import('#app_center/controllers/apps_controller')
const AppIconsController = () => import('#app_center/controllers/app_icons_controller')
const ServiceHallController = () => import('#app_center/controllers/service_hall_controller')
const OidcController = () => import('#app_center/controllers/oidc_controller')
const OidcInteractionsController = () =>
  import('#app_center/controllers/oidc_interactions_controller')

addNavEntry({
  label: 'apps.nav',
  href: '/console/apps',
  icon: 'apps',
  permission: 'apps.manage',
  order: 30,
})

// The portal's home tile for the service hall.
addPortalTile({
  id: 'service_hall',
  label: 'portal.tiles.service_hall',
  icon: 'apps',
  href: '/portal/apps',
  order: 30,
  summary: () => ({ key: 'apps.hall.tile_summary' }),
})

router
  .group(() => {
    router.get('/', [AppsController, 'index']).as('apps.index')
    router.get('/new', [AppsController, 'create']).as('apps.create')
    router.post('/', [AppsController, 'store']).as('apps.store')
    router.get('/:publicId', [AppsController, 'show']).where('publicId', PUBLIC_ID).as('apps.show')
    router
      .get('/:publicId/edit', [AppsController, 'edit'])
      .where('publicId', PUBLIC_ID)
      .as('apps.edit')
    router
      .post('/:publicId', [AppsController, 'update'])
      .where('publicId', PUBLIC_ID)
      .as('apps.update')
    router
      .post('/:publicId/enable', [AppsController, 'enable'])
      .where('publicId', PUBLIC_ID)
      .as('apps.enable')
    router
      .post('/:publicId/disable', [AppsController, 'disable'])
      .where('publicId', PUBLIC_ID)
      .as('apps.disable')
    router
      .post('/:publicId/rotate-secret', [AppsController, 'rotateSecret'])
      .where('publicId', PUBLIC_ID)
      .as('apps.rotate_secret')
  })
  .prefix('/console/apps')
  .use(middleware.auth())

router.get('/app-icons/:file', [AppIconsController, 'show']).as('apps.icon')

router
  .group(() => {
    router.get('/apps', [ServiceHallController, 'index']).as('portal.apps')
    router
      .get('/apps/:publicId/launch', [ServiceHallController, 'launch'])
      .where('publicId', PUBLIC_ID)
      .as('portal.apps.launch')
    router.get('/device/:code?', [ServiceHallController, 'device']).as('portal.device')
    router.get('/authorize/:uid', [OidcInteractionsController, 'show']).as('oidc.interaction')
    router
      .post('/authorize/:uid/consent', [OidcInteractionsController, 'decide'])
      .as('oidc.interaction.consent')
  })
  .prefix('/portal')
  .use(middleware.portalAuth())

router.any('/oidc/*', [OidcController, 'handle']).as('oidc')
