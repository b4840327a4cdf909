import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const AudiencesController = () => import('#identity/controllers/audiences_controller')

/** A public id in a URL; keeps /console/audiences/new and /preview out of :publicId. */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addNavEntry({
  label: 'audiences.nav',
  href: '/console/audiences',
  icon: 'people',
  permission: 'audiences.read',
  order: 12,
})

router
  .group(() => {
    router.get('/', [AudiencesController, 'index']).as('audiences.index')
    router.get('/new', [AudiencesController, 'create']).as('audiences.create')
    router.post('/', [AudiencesController, 'store']).as('audiences.store')
    router.post('/preview', [AudiencesController, 'preview']).as('audiences.preview')
    router
      .get('/:publicId', [AudiencesController, 'show'])
      .where('publicId', PUBLIC_ID)
      .as('audiences.show')
    router
      .get('/:publicId/edit', [AudiencesController, 'edit'])
      .where('publicId', PUBLIC_ID)
      .as('audiences.edit')
    router
      .put('/:publicId', [AudiencesController, 'update'])
      .where('publicId', PUBLIC_ID)
      .as('audiences.update')
    router
      .post('/:publicId/archive', [AudiencesController, 'archive'])
      .where('publicId', PUBLIC_ID)
      .as('audiences.archive')
  })
  .prefix('/console/audiences')
  .use(middleware.auth())
