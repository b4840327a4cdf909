import type { GatewayRouter } from '#terminals/gateway/router'
import {
  authorizePayment,
  closeBatch,
  uploadOffline,
} from '#ledger/controllers/terminal_payments_controller'

/** The ledger's terminal endpoints (docs/terminal-protocol.md, "Payments"). */
export default function (router: GatewayRouter) {
  router.post('/t/v1/payments', authorizePayment, { kinds: ['pos', 'kiosk'] })
  router.post('/t/v1/offline', uploadOffline, { bodyLimit: 2 * 1024 * 1024 })
  router.post('/t/v1/batches/close', closeBatch, { kinds: ['pos', 'kiosk'] })
}
