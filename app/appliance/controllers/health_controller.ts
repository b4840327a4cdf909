import type { HttpContext } from '@adonisjs/core/http'
import { readinessChecks } from '#appliance/services/readiness'
import { renderMetrics } from '#appliance/services/metrics'
import { operationalGauges } from '#appliance/services/operational_gauges'

/**
 * Probes for load balancers, supervisors and Prometheus. Answers are never
 * cached: a stale "ok" is worse than none.
 */
export default class HealthController {
  /** Liveness: the process answers. */
  async live({ response }: HttpContext) {
    response.header('cache-control', 'no-store')
    return response.send({ status: 'ok' })
  }

  /** Readiness: database reachable, migrations current, storage writable. */
  async ready({ response }: HttpContext) {
    const checks = await readinessChecks()
    const ok = checks.every((check) => check.ok)
    response.header('cache-control', 'no-store')
    return response.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks })
  }

  /** Prometheus text format; the route lets only localhost or the bearer token in. */
  async metrics({ response }: HttpContext) {
    response.header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
    response.header('cache-control', 'no-store')
    return response.send(renderMetrics(await operationalGauges()))
  }
}
