import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const AdminAccountsController = () => import('#identity/controllers/admin_accounts_controller')
const AdminGrantsController = () => import('#identity/controllers/admin_grants_controller')
const RolesController = () => import('#identity/controllers/roles_controller')

/** A public id in a URL; keeps /console/admins/new out of :publicId. */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addNavEntry({
  label: 'admins.nav.accounts',
  href: '/console/admins',
  icon: 'user',
  permission: 'admins.manage',
  order: 85,
})

addNavEntry({
  label: 'admins.nav.roles',
  href: '/console/roles',
  icon: 'settings',
  permission: 'admins.manage',
  order: 86,
})

router
  .group(() => {
    router.get('/admins', [AdminAccountsController, 'index']).as('admins.index')
    router.get('/admins/new', [AdminAccountsController, 'create']).as('admins.create')
    router.post('/admins', [AdminAccountsController, 'store']).as('admins.store')
    router
      .get('/admins/:publicId', [AdminAccountsController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('admins.show')
    router
      .post('/admins/:publicId/disable', [AdminAccountsController, 'disable'])
      .where('publicId', PUBLIC_ID)
      .as('admins.disable')
    router
      .post('/admins/:publicId/enable', [AdminAccountsController, 'enable'])
      .where('publicId', PUBLIC_ID)
      .as('admins.enable')
    router
      .post('/admins/:publicId/password', [AdminAccountsController, 'resetPassword'])
      .where('publicId', PUBLIC_ID)
      .as('admins.password')
    router
      .post('/admins/:publicId/second-factor', [AdminAccountsController, 'resetSecondFactor'])
      .where('publicId', PUBLIC_ID)
      .as('admins.second_factor')
    router
      .post('/admins/:publicId/grants', [AdminGrantsController, 'store'])
      .where('publicId', PUBLIC_ID)
      .as('admins.grants.store')
    router
      .post('/admins/:publicId/grants/:grantId/remove', [AdminGrantsController, 'destroy'])
      .where('publicId', PUBLIC_ID)
      .where('grantId', PUBLIC_ID)
      .as('admins.grants.destroy')
    router.get('/roles', [RolesController, 'index']).as('roles.index')
    router.get('/roles/new', [RolesController, 'create']).as('roles.create')
    router.post('/roles', [RolesController, 'store']).as('roles.store')
    router
      .get('/roles/:publicId', [RolesController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('roles.show')
    router
      .post('/roles/:publicId', [RolesController, 'update'])
      .where('publicId', PUBLIC_ID)
      .as('roles.update')
    router
      .post('/roles/:publicId/delete', [RolesController, 'destroy'])
      .where('publicId', PUBLIC_ID)
      .as('roles.destroy')
  })
  .prefix('/console')
  .use(middleware.auth())
