import type { GatewayRouter } from '#terminals/gateway/router'
import * as gateway from '#terminals/controllers/gateway_controller'

/** The terminal gateway's own endpoints (docs/terminal-protocol.md). */
export default function (router: GatewayRouter) {
  router.post('/t/v1/enroll', gateway.enroll, { authenticated: false, bodyLimit: 64 * 1024 })
  router.get('/t/v1/config', gateway.config)
  router.get('/t/v1/clock', gateway.clock)
  router.post('/t/v1/heartbeat', gateway.heartbeat)
  router.get('/t/v1/keys', gateway.keys)
  router.get('/t/v1/blacklist', gateway.blacklist)
  router.get('/t/v1/offline-limits', gateway.offlineLimits)
  router.get('/t/v1/sync', gateway.sync)
}
