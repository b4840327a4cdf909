import type { GatewayRouter } from '#terminals/gateway/router'
import { registerSyncSection } from '#terminals/services/sync_sections'
import {
  accessRules,
  accessRulesSection,
  checkAccess,
  uploadAccessEvents,
} from '#access/controllers/terminal_access_controller'

/** Access control's terminal endpoints (docs/access-control.md §5). */
export default function (router: GatewayRouter) {
  router.post('/t/v1/access', checkAccess, { kinds: ['door', 'gate'] })
  router.get('/t/v1/access/rules', accessRules, { kinds: ['door', 'gate'] })
  router.post('/t/v1/access/events', uploadAccessEvents, {
    kinds: ['door', 'gate'],
    bodyLimit: 2 * 1024 * 1024,
  })
  registerSyncSection('access_rules', accessRulesSection, { kinds: ['door', 'gate'] })
}
