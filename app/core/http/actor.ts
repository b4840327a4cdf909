import type { HttpContext } from '@adonisjs/core/http'
import type { AuditActor } from '#core/services/audit'

/** The audit actor of an HTTP request: the signed-in user, or anonymous. */
export function actorFrom(ctx: HttpContext): AuditActor {
  const user = ctx.auth?.user
  return {
    type: user ? 'user' : 'anonymous',
    id: user?.publicId ?? null,
    name: user?.username ?? null,
    ip: ctx.request.ip(),
    userAgent: ctx.request.header('user-agent') ?? null,
  }
}
