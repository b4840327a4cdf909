import type { HttpContext } from '@adonisjs/core/http'
import { readinessChecks } from '#appliance/services/readiness'
import { renderMetrics } from '#appliance/services/metrics'
import { operationalGauges } from '#appliance/services/operational_gauges'

export default class HealthController {
  /** Liveness: the process answers. */
  async live({ response }: HttpContext) {
    return response.send({ status: 'ok' })
  }

  /** Readiness: database reachable, migrations current, storage writable. */
  async ready({ response }: HttpContext) {
    const checks = await readinessChecks()
    const ok = checks.every((check) => check.ok)
    return response.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks })
  }

  async metrics({ response }: HttpContext) {
    response.header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
    return response.send(renderMetrics(await operationalGauges()))
  }
}
