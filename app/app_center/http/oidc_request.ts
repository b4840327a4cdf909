import { Readable } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { HttpContext } from '@adonisjs/core/http'
import { OIDC_MOUNT } from '#app_center/services/oidc_provider'

/**
 * Hands an AdonisJS request to the provider (a Koa application) as the
 * request it expects: the path below the mount point, and the body as it
 * arrived. AdonisJS's body parser has read the stream of form and JSON
 * requests by then; the provider reads the body itself, so it gets a stream
 * that replays the raw bytes.
 */
export function providerRequest(ctx: HttpContext): { req: IncomingMessage; restore(): void } {
  const original = ctx.request.request
  const url = original.url ?? '/'
  const below = url.slice(OIDC_MOUNT.length)
  const path = below.startsWith('/') ? below : `/${below}`
  const raw = ctx.request.raw()
  if (raw !== null) {
    const body = Buffer.from(raw, 'utf8')
    const headers = { ...original.headers, 'content-length': String(body.length) }
    // The parser has inflated a compressed body already.
    delete headers['content-encoding']
    const replay = Object.assign(Readable.from([body]), {
      headers,
      rawHeaders: original.rawHeaders,
      method: original.method,
      url: path,
      originalUrl: url,
      socket: original.socket,
      connection: original.socket,
      httpVersion: original.httpVersion,
      httpVersionMajor: original.httpVersionMajor,
      httpVersionMinor: original.httpVersionMinor,
      complete: true,
    })
    return { req: replay as unknown as IncomingMessage, restore: () => {} }
  }
  const forwarded = original as IncomingMessage & { originalUrl?: string }
  forwarded.url = path
  forwarded.originalUrl = url
  return {
    req: forwarded,
    restore() {
      forwarded.url = url
      delete forwarded.originalUrl
    },
  }
}

/** The security headers shield set for this request, for pages the provider answers with. */
export function pageSecurityHeaders(ctx: HttpContext): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const name of [
    'content-security-policy',
    'x-frame-options',
    'x-content-type-options',
    'strict-transport-security',
  ]) {
    const value = ctx.response.getHeader(name)
    if (typeof value === 'string') headers[name] = value
  }
  return headers
}
