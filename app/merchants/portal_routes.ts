/*
 * The portal's merchant-code payment (/portal/pay): scan a shop's printed
 * code, enter the amount, confirm; and the payment PIN.
 */
import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addPortalTile } from '#identity/services/portal_home'
import '#identity/portal_routes'

const PortalPayController = () => import('#merchants/controllers/portal_pay_controller')

addPortalTile({
  id: 'merchant_pay',
  label: 'merchants.pay.tile',
  icon: 'money',
  href: '/portal/pay',
  order: 15,
})

router
  .group(() => {
    router.get('/pay', [PortalPayController, 'scan']).as('portal.pay.scan')
    router.get('/pay/pin', [PortalPayController, 'pinForm']).as('portal.pay.pin')
    router.post('/pay/pin', [PortalPayController, 'savePin']).as('portal.pay.pin.save')
    router
      .get('/pay/:token', [PortalPayController, 'show'])
      .where('token', /^[\w-]{16,40}$/)
      .as('portal.pay.show')
    router
      .post('/pay/:token', [PortalPayController, 'pay'])
      .where('token', /^[\w-]{16,40}$/)
      .as('portal.pay.confirm')
  })
  .prefix('/portal')
  .use(middleware.portalAuth())
