import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { throttle } from '#start/limiter'

const SetupController = () => import('#appliance/controllers/setup_controller')
const HealthController = () => import('#appliance/controllers/health_controller')

router.get('/setup', [SetupController, 'show']).as('setup')
router.post('/setup', [SetupController, 'store']).use(throttle.login)

router.get('/healthz', [HealthController, 'live']).as('healthz')
router.get('/readyz', [HealthController, 'ready']).as('readyz')
router.get('/metrics', [HealthController, 'metrics']).as('metrics').use(middleware.localOrToken())
