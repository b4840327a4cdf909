/*
 * HTTP kernel: server middleware runs on every request, router middleware on
 * every matched route, named middleware where a route asks for it.
 */
import router from '@adonisjs/core/services/router'
import server from '@adonisjs/core/services/server'

server.errorHandler(() => import('#core/exceptions/handler'))

server.use([
  () => import('#core/middleware/request_metrics_middleware'),
  () => import('#core/middleware/container_bindings_middleware'),
  () => import('@adonisjs/static/static_middleware'),
])

router.use([
  () => import('@adonisjs/core/bodyparser_middleware'),
  () => import('@adonisjs/session/session_middleware'),
  () => import('#core/middleware/back_channel_session_middleware'),
  () => import('@adonisjs/auth/initialize_auth_middleware'),
  () => import('#core/middleware/silent_auth_middleware'),
  () => import('#core/middleware/detect_locale_middleware'),
  () => import('@adonisjs/shield/shield_middleware'),
  () => import('#core/middleware/initialize_bouncer_middleware'),
  () => import('#core/middleware/setup_gate_middleware'),
])

export const middleware = router.named({
  guest: () => import('#core/middleware/guest_middleware'),
  auth: () => import('#core/middleware/auth_middleware'),
  localOrToken: () => import('#core/middleware/local_or_token_middleware'),
  apiClient: () => import('#identity/api/api_client_middleware'),
  portalAuth: () => import('#identity/middleware/portal_auth_middleware'),
})
