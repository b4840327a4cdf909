import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'
import '#merchants/portal_routes'

const MerchantsController = () => import('#merchants/controllers/merchants_controller')

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addNavEntry({
  label: 'merchants.nav.merchants',
  href: '/console/merchants',
  icon: 'money',
  permission: 'merchants.view',
  order: 27,
})

router
  .group(() => {
    router.get('/merchants', [MerchantsController, 'index']).as('merchants.index')
    router.get('/merchants/new', [MerchantsController, 'create']).as('merchants.create')
    router.post('/merchants', [MerchantsController, 'store']).as('merchants.store')
    router.get('/merchants/settings', [MerchantsController, 'settings']).as('merchants.settings')
    router
      .post('/merchants/settings', [MerchantsController, 'saveSettings'])
      .as('merchants.settings.save')
    router
      .get('/merchants/shops/:publicId', [MerchantsController, 'showShop'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.shop')
    router
      .post('/merchants/shops/:publicId', [MerchantsController, 'updateShop'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.shop.update')
    router
      .post('/merchants/shops/:publicId/change', [MerchantsController, 'changeShop'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.shop.change')
    router
      .post('/merchants/payments/:publicId/refunds', [MerchantsController, 'refund'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.refund')
    router
      .get('/merchants/:publicId', [MerchantsController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.show')
    router
      .get('/merchants/:publicId/edit', [MerchantsController, 'edit'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.edit')
    router
      .post('/merchants/:publicId', [MerchantsController, 'update'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.update')
    router
      .post('/merchants/:publicId/status', [MerchantsController, 'status'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.status')
    router
      .post('/merchants/:publicId/shops', [MerchantsController, 'storeShop'])
      .where('publicId', PUBLIC_ID)
      .as('merchants.shops.store')
  })
  .prefix('/console')
  .use(middleware.auth())
