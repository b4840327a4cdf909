import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { throttle } from '#start/limiter'

const SessionController = () => import('#identity/controllers/session_controller')

router
  .group(() => {
    router.get('/login', [SessionController, 'create']).as('login')
    router.post('/login', [SessionController, 'store']).use(throttle.login)
    router.get('/login/totp', [SessionController, 'showSecondFactor']).as('login.totp')
    router.post('/login/totp', [SessionController, 'verifySecondFactor']).use(throttle.login)
  })
  .use(middleware.guest())

router.post('/logout', [SessionController, 'destroy']).as('logout').use(middleware.auth())
