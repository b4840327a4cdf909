import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const SystemController = () => import('#appliance/controllers/system_controller')

addNavEntry({
  label: 'system.nav',
  href: '/console/system',
  icon: 'settings',
  permission: 'system.read',
  order: 95,
})

router.get('/console/system', [SystemController, 'index']).as('system.index').use(middleware.auth())
