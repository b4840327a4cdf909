import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import { pkiPaths } from '#appliance/services/pki'
import type Terminal from '#terminals/models/terminal'
import type { CertificateCache } from '#terminals/services/certificate_cache'
import { normalizeFingerprint } from '#terminals/services/certificates'
import {
  markSeen,
  terminalCertificates,
  type TerminalAuthError,
} from '#terminals/services/terminal_auth'
import { GatewayContext, type GatewayReply } from './context.js'
import { errorBody, GatewayError } from './errors.js'
import type { GatewayRoute, GatewayRouter } from './router.js'

export interface GatewayLogger {
  info(message: string, meta?: Record<string, unknown>): void
  warn(message: string, meta?: Record<string, unknown>): void
  error(message: string, meta?: Record<string, unknown>): void
}

export interface GatewayServerOptions {
  router: GatewayRouter
  logger?: GatewayLogger
  /** How often to look for a new server certificate on disk (ms). */
  certificateCheckMs?: number
  /** Certificate → terminal (default: this process's, shared with the actions that change terminals). */
  certificates?: CertificateCache<Terminal, TerminalAuthError>
}

const silent: GatewayLogger = { info() {}, warn() {}, error() {} }

/**
 * The server key and chain, and the appliance CA as the only issuer of
 * client certificates. Clients may connect without a certificate (for
 * enrollment); a certificate that does not chain to the CA is cut off right
 * after the handshake (see the secureConnection listener).
 */
function tlsOptions() {
  const ca = readFileSync(pkiPaths.caCert(), 'utf8')
  return {
    key: readFileSync(pkiPaths.serverKey()),
    cert: readFileSync(pkiPaths.serverCert(), 'utf8') + '\n' + ca,
    ca,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2' as const,
  }
}

/** The peer certificate's fingerprint, cached on the socket (one TLS session, one certificate). */
const fingerprints = new WeakMap<TLSSocket, string | null>()

function peerFingerprint(socket: TLSSocket): string | null {
  if (fingerprints.has(socket)) return fingerprints.get(socket)!
  let fingerprint: string | null = null
  if (socket.authorized) {
    const cert = socket.getPeerCertificate()
    if (cert && cert.fingerprint256) fingerprint = normalizeFingerprint(cert.fingerprint256)
  }
  fingerprints.set(socket, fingerprint)
  return fingerprint
}

function send(res: ServerResponse, reply: GatewayReply) {
  const json = JSON.stringify(reply.body)
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
    'x-quad-server-time': String(Date.now()),
  })
  res.end(json)
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limit) {
      reject(new GatewayError('payload_too_large', 413, { limit }))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new GatewayError('payload_too_large', 413, { limit }))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

async function parseBody(req: IncomingMessage, route: GatewayRoute): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'DELETE') return undefined
  const raw = await readBody(req, route.bodyLimit)
  if (raw.length === 0) return {}
  const type = String(req.headers['content-type'] ?? '')
  if (!/^application\/json\b/i.test(type)) throw new GatewayError('unsupported_media_type', 415)
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch {
    throw new GatewayError('invalid_json', 400)
  }
}

async function authenticate(
  socket: TLSSocket,
  route: GatewayRoute,
  certificates: CertificateCache<Terminal, TerminalAuthError>
): Promise<Terminal | null> {
  const fingerprint = peerFingerprint(socket)
  if (!route.authenticated) return null
  if (!fingerprint) throw new GatewayError('certificate_required', 401)
  const found = await certificates.resolve(fingerprint)
  if (!found.ok) throw new GatewayError(found.error, 403)
  if (route.kinds && !route.kinds.includes(found.terminal.kind)) {
    throw new GatewayError('wrong_terminal_kind', 403, { kind: found.terminal.kind })
  }
  return found.terminal
}

/**
 * The terminal gateway: HTTPS with mutual TLS and the /t/v1 JSON protocol
 * (docs/terminal-protocol.md). Keeps nothing but a short-lived memory of
 * certificate → terminal (CERTIFICATE_CACHE_MS), so any number of gateways
 * can share a database.
 */
export function createGatewayServer(options: GatewayServerOptions): Server {
  const { router } = options
  const logger = options.logger ?? silent
  const certificates = options.certificates ?? terminalCertificates

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const now = new Date()
    const url = new URL(req.url ?? '/', 'https://gateway.invalid')
    const socket = req.socket as TLSSocket
    const address = socket.remoteAddress?.replace(/^::ffff:/, '') ?? null
    let terminalId: string | null = null
    try {
      const matched = router.match(req.method ?? 'GET', url.pathname)
      if (matched === null) throw new GatewayError('not_found', 404)
      if (matched === 'method') throw new GatewayError('method_not_allowed', 405)
      const { route, params } = matched
      const terminal = await authenticate(socket, route, certificates)
      terminalId = terminal?.publicId ?? null
      const body = await parseBody(req, route)
      if (terminal) await markSeen(terminal, address, now)
      const ctx = new GatewayContext(
        {
          method: route.method,
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          address,
          params,
        },
        body,
        terminal,
        now
      )
      send(res, await route.handler(ctx))
    } catch (error) {
      if (error instanceof GatewayError) {
        if (error.status >= 500) logger.error(error.message, { code: error.code })
        send(res, { status: error.status, body: errorBody(error.code, error.details) })
        return
      }
      logger.error('gateway request failed', {
        path: url.pathname,
        terminal: terminalId,
        error: error instanceof Error ? error.stack : String(error),
      })
      send(res, { status: 500, body: errorBody('internal_error') })
    }
  }

  const server = createServer(tlsOptions(), (req, res) => {
    void handle(req, res)
  })

  // A certificate that the appliance CA did not sign (another CA, self-signed,
  // expired) ends the connection before any HTTP is read.
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.authorized) return
    const cert = socket.getPeerCertificate()
    if (cert && Object.keys(cert).length > 0) {
      logger.warn('terminal certificate refused', {
        reason: String(socket.authorizationError),
        address: socket.remoteAddress,
      })
      socket.destroy()
    }
  })

  const certPath = pkiPaths.serverCert()
  const reload = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs === previous.mtimeMs || current.mtimeMs === 0) return
    try {
      server.setSecureContext(tlsOptions())
    } catch {
      // Keep serving the previous certificate.
    }
  }
  watchFile(certPath, { persistent: false, interval: options.certificateCheckMs ?? 5000 }, reload)
  server.on('close', () => unwatchFile(certPath, reload))
  return server
}
