/*
 * The portal's card page (/portal/card): the card face, the live campus code
 * (made on the phone, offline too), activation with a device key, credential
 * renewal and the holder's loss report. Also the installable page's web
 * manifest and service worker.
 */
import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addPortalTile } from '#identity/services/portal_home'
// The portal registers placeholder home tiles; loading it first lets the
// campus code's tile below replace its placeholder whatever the import order.
import '#identity/portal_routes'

const PortalCardController = () => import('#cards/controllers/portal_card_controller')

addPortalTile({
  id: 'campus_code',
  label: 'portal.tiles.campus_code',
  icon: 'card',
  href: '/portal/card',
  order: 10,
  wide: true,
  summary: () => ({ key: 'card_page.tile_summary' }),
})

router
  .group(() => {
    router.get('/card', [PortalCardController, 'show']).as('portal.card')
    router.post('/card/challenge', [PortalCardController, 'challenge'])
    router.post('/card/activate', [PortalCardController, 'activate'])
    router.post('/card/credential', [PortalCardController, 'renew'])
    router.post('/card/freeze', [PortalCardController, 'freeze'])
  })
  .prefix('/portal')
  .use(middleware.portalAuth())
