/**
 * The CAS server (protocol 2.0 and 3.0, docs/integrating-apps.md#cas):
 * sign-in, ticket validation and logout under /cas, and the return from the
 * portal's sign-in under /portal/cas.
 */
import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const CasController = () => import('#app_center/controllers/cas_controller')

router
  .group(() => {
    router.get('/login', [CasController, 'login']).as('cas.login')
    router.get('/logout', [CasController, 'logout']).as('cas.logout')
    router.get('/validate', [CasController, 'validateV1']).as('cas.validate')
    router.get('/serviceValidate', [CasController, 'serviceValidate']).as('cas.service_validate')
    router.get('/proxyValidate', [CasController, 'serviceValidate']).as('cas.proxy_validate')
    router
      .get('/p3/serviceValidate', [CasController, 'p3ServiceValidate'])
      .as('cas.p3.service_validate')
    router
      .get('/p3/proxyValidate', [CasController, 'p3ServiceValidate'])
      .as('cas.p3.proxy_validate')
    router.get('/proxy', [CasController, 'proxy']).as('cas.proxy')
  })
  .prefix('/cas')

router
  .get('/portal/cas/:state', [CasController, 'resume'])
  .use(middleware.portalAuth())
  .as('cas.resume')
