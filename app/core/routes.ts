import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const DashboardController = () => import('#core/controllers/dashboard_controller')
const LocaleController = () => import('#core/controllers/locale_controller')
const AuditEntriesController = () => import('#core/controllers/audit_entries_controller')
const AuditExportsController = () => import('#core/controllers/audit_exports_controller')

addNavEntry({
  label: 'core.nav.dashboard',
  href: '/console',
  icon: 'home',
  permission: 'console.access',
  order: 0,
})

addNavEntry({
  label: 'audit.nav.title',
  href: '/console/audit',
  icon: 'audit',
  permission: 'audit.read',
  order: 90,
})

router.on('/').redirectToPath('/console')
router.get('/lang/:locale', [LocaleController, 'update']).as('locale.update')
router.get('/console', [DashboardController, 'show']).as('console').use(middleware.auth())

router
  .group(() => {
    router.get('/', [AuditEntriesController, 'index']).as('audit.index')
    router.get('/export.csv', [AuditExportsController, 'show']).as('audit.export')
    router
      .get('/:seq', [AuditEntriesController, 'show'])
      .where('seq', /^\d{1,16}$/)
      .as('audit.show')
  })
  .prefix('/console/audit')
  .use(middleware.auth())
