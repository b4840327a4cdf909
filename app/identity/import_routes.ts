import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const ImportsController = () => import('#identity/controllers/imports_controller')
const ExportsController = () => import('#identity/controllers/exports_controller')

// Registered before the people and org routes, so that /people/import is not read as a person's id.
router
  .group(() => {
    router.get('/people/import', [ImportsController, 'create']).as('people.import')
    router.post('/people/import', [ImportsController, 'store']).as('people.import.store')
    router
      .get('/people/import/template/:format', [ImportsController, 'template'])
      .as('people.import.template')
    router.post('/people/export', [ExportsController, 'store']).as('people.export')
    // Registered before the org routes, so that /org/import is not read as a unit's id.
    router.get('/org/import', [ImportsController, 'createOrgUnits']).as('org.import')
    router.post('/org/import', [ImportsController, 'storeOrgUnits']).as('org.import.store')
    router
      .get('/org/import/template/:format', [ImportsController, 'templateOrgUnits'])
      .as('org.import.template')
    router.post('/org/export', [ExportsController, 'orgUnits']).as('org.export')
    router.get('/imports/:publicId', [ImportsController, 'show']).as('imports.show')
    router.post('/imports/:publicId/mapping', [ImportsController, 'mapping']).as('imports.mapping')
    router.post('/imports/:publicId/confirm', [ImportsController, 'confirm']).as('imports.confirm')
    router
      .get('/imports/:publicId/progress', [ImportsController, 'progress'])
      .as('imports.progress')
  })
  .prefix('/console')
  .use(middleware.auth())
