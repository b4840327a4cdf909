import type { TerminalKind } from '#terminals/models/terminal'
import type { GatewayContext, GatewayReply } from './context.js'

export type GatewayHandler = (ctx: GatewayContext) => Promise<GatewayReply> | GatewayReply

export interface GatewayRouteOptions {
  /** False only for enrollment: no client certificate needed. Default true. */
  authenticated?: boolean
  /** Terminal kinds allowed (default: all). */
  kinds?: readonly TerminalKind[]
  /** Largest body accepted, in bytes (default 1 MiB). */
  bodyLimit?: number
}

export interface GatewayRoute extends Required<Omit<GatewayRouteOptions, 'kinds'>> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  pattern: string
  segments: string[]
  kinds: readonly TerminalKind[] | null
  handler: GatewayHandler
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024

/**
 * The gateway's route table: exact paths, with `:name` segments for
 * parameters. Every module adds its /t/v1 routes from its own
 * gateway_routes.ts file (see route_files.ts).
 */
export class GatewayRouter {
  readonly routes: GatewayRoute[] = []
  readonly #exact = new Map<string, GatewayRoute>()

  #add(
    method: GatewayRoute['method'],
    pattern: string,
    handler: GatewayHandler,
    options: GatewayRouteOptions = {}
  ) {
    if (!pattern.startsWith('/t/v1/'))
      throw new Error(`Gateway routes live under /t/v1: ${pattern}`)
    const route: GatewayRoute = {
      method,
      pattern,
      segments: pattern.split('/'),
      handler,
      authenticated: options.authenticated ?? true,
      kinds: options.kinds ?? null,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    }
    if (this.routes.some((other) => other.method === method && other.pattern === pattern)) {
      throw new Error(`Gateway route defined twice: ${method} ${pattern}`)
    }
    this.routes.push(route)
    if (!pattern.includes(':')) this.#exact.set(`${method} ${pattern}`, route)
    return this
  }

  get(pattern: string, handler: GatewayHandler, options?: GatewayRouteOptions) {
    return this.#add('GET', pattern, handler, options)
  }

  post(pattern: string, handler: GatewayHandler, options?: GatewayRouteOptions) {
    return this.#add('POST', pattern, handler, options)
  }

  put(pattern: string, handler: GatewayHandler, options?: GatewayRouteOptions) {
    return this.#add('PUT', pattern, handler, options)
  }

  delete(pattern: string, handler: GatewayHandler, options?: GatewayRouteOptions) {
    return this.#add('DELETE', pattern, handler, options)
  }

  /**
   * The route for a request: { route, params }, 'method' when the path
   * exists with another method, or null.
   */
  match(
    method: string,
    path: string
  ): { route: GatewayRoute; params: Record<string, string> } | 'method' | null {
    const exact = this.#exact.get(`${method} ${path}`)
    if (exact) return { route: exact, params: {} }
    const segments = path.split('/')
    let otherMethod = false
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments)
      if (!params) continue
      if (route.method === method) return { route, params }
      otherMethod = true
    }
    return otherMethod ? 'method' : null
  }
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | null {
  if (pattern.length !== path.length) return null
  const params: Record<string, string> = {}
  for (const [index, part] of pattern.entries()) {
    if (part.startsWith(':')) {
      if (!path[index]) return null
      params[part.slice(1)] = decodeURIComponent(path[index])
    } else if (part !== path[index]) {
      return null
    }
  }
  return params
}
