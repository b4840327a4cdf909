import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { throttle } from '#start/limiter'
import { addNavEntry } from '#core/services/navigation'

const SessionController = () => import('#identity/controllers/session_controller')
const OrgController = () => import('#identity/controllers/org_controller')
const PeopleController = () => import('#identity/controllers/people_controller')

addNavEntry({
  label: 'identity.org.nav',
  href: '/console/org',
  icon: 'people',
  permission: 'people.read',
  order: 10,
})

addNavEntry({
  label: 'identity.people.nav',
  href: '/console/people',
  icon: 'people',
  permission: 'people.read',
  order: 11,
})

router
  .group(() => {
    router.get('/login', [SessionController, 'create']).as('login')
    router.post('/login', [SessionController, 'store']).use(throttle.login)
    router.get('/login/totp', [SessionController, 'showSecondFactor']).as('login.totp')
    router.post('/login/totp', [SessionController, 'verifySecondFactor']).use(throttle.login)
  })
  .use(middleware.guest())

router.post('/logout', [SessionController, 'destroy']).as('logout').use(middleware.auth())

router
  .group(() => {
    router.get('/org', [OrgController, 'index']).as('org.index')
    router.get('/people', [PeopleController, 'index']).as('people.index')
    router.get('/people/:publicId', [PeopleController, 'show']).as('people.show')
  })
  .prefix('/console')
  .use(middleware.auth())
