import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { throttle } from '#start/limiter'
import { addNavEntry } from '#core/services/navigation'
import '#identity/audience_routes'
import '#identity/import_routes'
import '#identity/api/routes'
import '#identity/admin_routes'

const SessionController = () => import('#identity/controllers/session_controller')
const OrgController = () => import('#identity/controllers/org_controller')
const PeopleController = () => import('#identity/controllers/people_controller')
const PersonStatusController = () => import('#identity/controllers/person_status_controller')
const PersonPiiController = () => import('#identity/controllers/person_pii_controller')
const PersonPhotoController = () => import('#identity/controllers/person_photo_controller')

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
    router.get('/org/new', [OrgController, 'create']).as('org.create')
    router.post('/org', [OrgController, 'store']).as('org.store')
    router.get('/org/:publicId', [OrgController, 'show']).as('org.show')
    router.post('/org/:publicId/rename', [OrgController, 'rename']).as('org.rename')
    router.post('/org/:publicId/move', [OrgController, 'move']).as('org.move')
    router.post('/org/:publicId/disable', [OrgController, 'disable']).as('org.disable')
    router.post('/org/:publicId/enable', [OrgController, 'enable']).as('org.enable')
    router.get('/people', [PeopleController, 'index']).as('people.index')
    router.get('/people/new', [PeopleController, 'create']).as('people.create')
    router.post('/people', [PeopleController, 'store']).as('people.store')
    router.get('/people/:publicId', [PeopleController, 'show']).as('people.show')
    router.get('/people/:publicId/edit', [PeopleController, 'edit']).as('people.edit')
    router.post('/people/:publicId', [PeopleController, 'update']).as('people.update')
    router.post('/people/:publicId/status', [PersonStatusController, 'store']).as('people.status')
    router.post('/people/:publicId/reveal', [PersonPiiController, 'reveal']).as('people.reveal')
    router.get('/people/:publicId/photo', [PersonPhotoController, 'show']).as('people.photo')
  })
  .prefix('/console')
  .use(middleware.auth())
