import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import { throttle } from '#start/limiter'
import { addNavEntry } from '#core/services/navigation'
import type { ApiScope } from '#identity/api/api_client'
import { openApiDocument } from '#identity/api/openapi'

const PeopleApiController = () => import('#identity/api/people_api_controller')
const OrgUnitsApiController = () => import('#identity/api/org_units_api_controller')
const ApiClientsController = () => import('#identity/api/api_clients_controller')

addNavEntry({
  label: 'api_clients.nav',
  href: '/console/api-clients',
  icon: 'apps',
  permission: 'api_clients.manage',
  order: 13,
})

/** The client must hold `scope`; it is then counted against its own rate limit. */
const requires = (scope: ApiScope) => [middleware.apiClient({ scope }), throttle.api]

router
  .group(() => {
    router.get('/openapi.json', () => openApiDocument).as('openapi')
    router.get('/people', [PeopleApiController, 'index']).use(requires('people:read'))
    router.get('/people/:personNo', [PeopleApiController, 'show']).use(requires('people:read'))
    router.put('/people/:personNo', [PeopleApiController, 'upsert']).use(requires('people:write'))
    router.patch('/people/:personNo', [PeopleApiController, 'update']).use(requires('people:write'))
    router
      .post('/people/:personNo/status', [PeopleApiController, 'status'])
      .use(requires('people:write'))
    router.get('/org-units', [OrgUnitsApiController, 'index']).use(requires('org:read'))
    router.put('/org-units/:code', [OrgUnitsApiController, 'upsert']).use(requires('org:write'))
  })
  .prefix('/api/v1')
  .as('api.v1')

router
  .group(() => {
    router.get('/', [ApiClientsController, 'index']).as('api_clients.index')
    router.post('/', [ApiClientsController, 'store']).as('api_clients.store')
    router.post('/:clientId/disable', [ApiClientsController, 'disable']).as('api_clients.disable')
  })
  .prefix('/console/api-clients')
  .use(middleware.auth())
