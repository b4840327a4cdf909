import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { observeHttpRequest } from '#appliance/services/metrics'

/** Times every request for the /metrics latency histogram. */
export default class RequestMetricsMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const started = process.hrtime.bigint()
    try {
      await next()
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const route = ctx.route?.pattern ?? 'unmatched'
      observeHttpRequest(ctx.request.method(), route, ctx.response.getStatus(), seconds)
    }
  }
}
