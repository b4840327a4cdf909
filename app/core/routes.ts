import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const DashboardController = () => import('#core/controllers/dashboard_controller')
const LocaleController = () => import('#core/controllers/locale_controller')

addNavEntry({
  label: 'core.nav.dashboard',
  href: '/console',
  icon: 'home',
  permission: 'console.access',
  order: 0,
})

router.on('/').redirectToPath('/console')
router.get('/lang/:locale', [LocaleController, 'update']).as('locale.update')
router.get('/console', [DashboardController, 'show']).as('console').use(middleware.auth())
