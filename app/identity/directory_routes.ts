import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const DirectorySourcesController = () =>
  import('#identity/controllers/directory_sources_controller')
const DirectoryRunsController = () => import('#identity/controllers/directory_runs_controller')

addNavEntry({
  label: 'directory.nav',
  href: '/console/directory',
  icon: 'people',
  permission: 'directory_sync.manage',
  order: 14,
})

router
  .group(() => {
    router.get('/directory', [DirectorySourcesController, 'index']).as('directory.index')
    // Registered before /sources/:publicId, so that "new" is not read as an id.
    router
      .get('/directory/sources/new', [DirectorySourcesController, 'create'])
      .as('directory.sources.create')
    router
      .post('/directory/sources', [DirectorySourcesController, 'store'])
      .as('directory.sources.store')
    router
      .get('/directory/sources/:publicId', [DirectorySourcesController, 'show'])
      .as('directory.sources.show')
    router
      .get('/directory/sources/:publicId/edit', [DirectorySourcesController, 'edit'])
      .as('directory.sources.edit')
    router
      .post('/directory/sources/:publicId', [DirectorySourcesController, 'update'])
      .as('directory.sources.update')
    router
      .post('/directory/sources/:publicId/test', [DirectorySourcesController, 'test'])
      .as('directory.sources.test')
    router
      .post('/directory/sources/:publicId/preview', [DirectorySourcesController, 'preview'])
      .as('directory.sources.preview')
    router
      .get('/directory/runs/:publicId', [DirectoryRunsController, 'show'])
      .as('directory.runs.show')
    router
      .get('/directory/runs/:publicId/progress', [DirectoryRunsController, 'progress'])
      .as('directory.runs.progress')
    router
      .post('/directory/runs/:publicId/apply', [DirectoryRunsController, 'apply'])
      .as('directory.runs.apply')
  })
  .prefix('/console')
  .use(middleware.auth())
