import { timingSafeEqual } from 'node:crypto'
import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import quadConfig from '#config/quad'

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Operational endpoints (/metrics) answer localhost, or anyone presenting
 * QUAD_METRICS_TOKEN as a bearer token.
 */
export default class LocalOrTokenMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const remote = ctx.request.request.socket.remoteAddress ?? ''
    if (LOOPBACK.has(remote)) return next()
    const header = ctx.request.header('authorization') ?? ''
    const token = header.startsWith('Bearer ') ? header.slice(7) : ''
    if (quadConfig.metricsToken && token && tokenMatches(token, quadConfig.metricsToken))
      return next()
    return ctx.response.status(403).send('forbidden\n')
  }
}
