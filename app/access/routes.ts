import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { addNavEntry } from '#core/services/navigation'

const ZonesController = () => import('#access/controllers/zones_controller')
const GroupsController = () => import('#access/controllers/groups_controller')
const CalendarController = () => import('#access/controllers/calendar_controller')
const EventsController = () => import('#access/controllers/events_controller')

/** A public id in a URL; keeps /new out of :publicId. */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/

addNavEntry({
  label: 'access.nav.zones',
  href: '/console/access/zones',
  icon: 'home',
  permission: 'access.view',
  order: 40,
})
addNavEntry({
  label: 'access.nav.groups',
  href: '/console/access/groups',
  icon: 'people',
  permission: 'access.view',
  order: 41,
})
addNavEntry({
  label: 'access.nav.calendar',
  href: '/console/access/calendar',
  icon: 'jobs',
  permission: 'access.view',
  order: 42,
})
addNavEntry({
  label: 'access.nav.events',
  href: '/console/access/events',
  icon: 'search',
  permission: 'access.view',
  order: 43,
})

router
  .group(() => {
    router.get('/zones', [ZonesController, 'index']).as('index')
    router.get('/zones/new', [ZonesController, 'createZone']).as('zones.create')
    router.post('/zones', [ZonesController, 'storeZone']).as('zones.store')
    router
      .get('/zones/:publicId/edit', [ZonesController, 'editZone'])
      .where('publicId', PUBLIC_ID)
      .as('zones.edit')
    router
      .post('/zones/:publicId', [ZonesController, 'updateZone'])
      .where('publicId', PUBLIC_ID)
      .as('zones.update')
    router.get('/points/new', [ZonesController, 'createPoint']).as('points.create')
    router.post('/points', [ZonesController, 'storePoint']).as('points.store')
    router
      .get('/points/:publicId/edit', [ZonesController, 'editPoint'])
      .where('publicId', PUBLIC_ID)
      .as('points.edit')
    router
      .post('/points/:publicId', [ZonesController, 'updatePoint'])
      .where('publicId', PUBLIC_ID)
      .as('points.update')
    router
      .get('/points/:publicId/snapshot', [ZonesController, 'snapshot'])
      .where('publicId', PUBLIC_ID)
      .as('points.snapshot')

    router.get('/groups', [GroupsController, 'index']).as('groups.index')
    router.get('/groups/new', [GroupsController, 'create']).as('groups.create')
    router.post('/groups', [GroupsController, 'store']).as('groups.store')
    router
      .get('/groups/:publicId/edit', [GroupsController, 'edit'])
      .where('publicId', PUBLIC_ID)
      .as('groups.edit')
    router
      .post('/groups/:publicId', [GroupsController, 'update'])
      .where('publicId', PUBLIC_ID)
      .as('groups.update')

    router.get('/calendar', [CalendarController, 'index']).as('calendar')
    router.post('/holidays', [CalendarController, 'storeHoliday']).as('holidays.store')
    router
      .post('/holidays/:publicId/delete', [CalendarController, 'destroyHoliday'])
      .where('publicId', PUBLIC_ID)
      .as('holidays.destroy')
    router.post('/exceptions', [CalendarController, 'storeException']).as('exceptions.store')
    router
      .post('/exceptions/:publicId/end', [CalendarController, 'endException'])
      .where('publicId', PUBLIC_ID)
      .as('exceptions.end')

    router.get('/events', [EventsController, 'index']).as('events.index')
    router.post('/events/export', [EventsController, 'export']).as('events.export')
  })
  .prefix('/console/access')
  .as('access')
  .use(middleware.auth())
