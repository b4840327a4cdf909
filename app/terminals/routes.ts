import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const TerminalsController = () => import('#terminals/controllers/terminals_controller')

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addNavEntry({
  label: 'terminals.nav.terminals',
  href: '/console/terminals',
  icon: 'terminal',
  permission: 'terminals.manage',
  order: 60,
})

router
  .group(() => {
    router.get('/terminals', [TerminalsController, 'index']).as('terminals.index')
    router.get('/terminals/new', [TerminalsController, 'create']).as('terminals.create')
    router.post('/terminals', [TerminalsController, 'store']).as('terminals.store')
    router.get('/terminals/offline-limits', [TerminalsController, 'limits']).as('terminals.limits')
    router
      .post('/terminals/offline-limits', [TerminalsController, 'saveLimits'])
      .as('terminals.save_limits')
    router
      .get('/terminals/:publicId/edit', [TerminalsController, 'edit'])
      .where('publicId', PUBLIC_ID)
      .as('terminals.edit')
    router
      .post('/terminals/:publicId', [TerminalsController, 'update'])
      .where('publicId', PUBLIC_ID)
      .as('terminals.update')
    router
      .get('/terminals/:publicId', [TerminalsController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('terminals.show')
    router
      .post('/terminals/:publicId/enrollment-code', [TerminalsController, 'enrollmentCode'])
      .where('publicId', PUBLIC_ID)
      .as('terminals.enrollment_code')
    router
      .post('/terminals/:publicId/revoke', [TerminalsController, 'revoke'])
      .where('publicId', PUBLIC_ID)
      .as('terminals.revoke')
  })
  .prefix('/console')
  .use(middleware.auth())
