import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { throttle } from '#start/limiter'
import { addNavEntry } from '#core/services/navigation'
import { addGaugeSource } from '#appliance/services/operational_gauges'
import { jobGauges } from '#appliance/services/jobs'
import '#appliance/system_routes'

const SetupController = () => import('#appliance/controllers/setup_controller')
const HealthController = () => import('#appliance/controllers/health_controller')
const JobsController = () => import('#appliance/controllers/jobs_controller')

router.get('/setup', [SetupController, 'show']).as('setup')
router.post('/setup', [SetupController, 'store']).use(throttle.login)

router.get('/healthz', [HealthController, 'live']).as('healthz')
router.get('/readyz', [HealthController, 'ready']).as('readyz')
router.get('/metrics', [HealthController, 'metrics']).as('metrics').use(middleware.localOrToken())

// The job queue's depth on /metrics. Every process loads this file at boot
// (start/routes.ts is a preload), so every web process reports it.
addGaugeSource(() => jobGauges())

addNavEntry({
  label: 'jobs.nav',
  href: '/console/jobs',
  icon: 'jobs',
  permission: 'jobs.read',
  order: 80,
})

router
  .group(() => {
    router.get('/', [JobsController, 'index']).as('index')
    router.get('/:id', [JobsController, 'show']).as('show')
    router.post('/:id/rerun', [JobsController, 'rerun']).as('rerun')
  })
  .prefix('/console/jobs')
  .as('jobs')
  .use(middleware.auth())
