import { GatewayRouter } from './router.js'

/**
 * The files that add routes to the terminal gateway, one per module. Each
 * default-exports `(router: GatewayRouter) => void`. To add endpoints under
 * /t/v1, write app/<module>/gateway_routes.ts and list it here.
 */
export const GATEWAY_ROUTE_FILES: Array<
  () => Promise<{ default: (router: GatewayRouter) => void }>
> = [
  () => import('#terminals/gateway_routes'),
  () => import('#ledger/gateway_routes'),
  () => import('#access/gateway_routes'),
]

/** A router with every module's gateway routes. */
export async function loadGatewayRouter(): Promise<GatewayRouter> {
  const router = new GatewayRouter()
  for (const load of GATEWAY_ROUTE_FILES) {
    const { default: register } = await load()
    register(router)
  }
  return router
}
