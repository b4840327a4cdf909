import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const CodeVerifyController = () => import('#cards/controllers/code_verify_controller')

addNavEntry({
  label: 'code_verify.nav.verify',
  href: '/console/card-verify',
  icon: 'card',
  permission: 'cards.read',
  order: 24,
})

addNavEntry({
  label: 'code_verify.nav.replays',
  href: '/console/card-replays',
  icon: 'alert',
  permission: 'cards.read',
  order: 25,
})

router
  .group(() => {
    router.get('/card-verify', [CodeVerifyController, 'show']).as('card_verify.show')
    router.post('/card-verify', [CodeVerifyController, 'verify']).as('card_verify.verify')
    router.get('/card-replays', [CodeVerifyController, 'replays']).as('card_replays.index')
  })
  .prefix('/console')
  .use(middleware.auth())
