import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import { ensureCertificateAuthority, ensureServerCertificate, pkiPaths } from './pki.js'
import { prepareStorageFolders } from './storage_root.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown

/** True unless QUAD_TLS is set to false (TLS terminated by a proxy, or tests). */
export function tlsEnabled(): boolean {
  return !['false', '0', 'no', 'off'].includes((process.env.QUAD_TLS ?? 'true').toLowerCase())
}

/** The key and the chain (server certificate, then the CA) as they are on disk now. */
function tlsMaterial() {
  return {
    key: readFileSync(pkiPaths.serverKey()),
    cert: readFileSync(pkiPaths.serverCert(), 'utf8') + '\n' + readFileSync(pkiPaths.caCert()),
  }
}

export interface QuadServerOptions {
  /** How often to look for a new certificate on disk, in milliseconds. */
  certificateCheckMs?: number
}

/**
 * Builds the Node server that AdonisJS listens on: HTTPS with the appliance
 * certificate, created on first start if storage:prepare has not made one yet.
 * A certificate replaced by `node ace certificate:issue` is picked up by new
 * connections without a restart.
 */
export function createQuadServer(handler: Handler, options: QuadServerOptions = {}) {
  if (!tlsEnabled()) return createHttpServer(handler)
  prepareStorageFolders()
  ensureCertificateAuthority()
  ensureServerCertificate()
  const server = createHttpsServer({ ...tlsMaterial(), minVersion: 'TLSv1.2' }, handler)

  // The key is written before the certificate, so a changed certificate means
  // both are in place. A half-finished pair throws and the old context stays.
  const certPath = pkiPaths.serverCert()
  const reload = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs === previous.mtimeMs || current.mtimeMs === 0) return
    try {
      server.setSecureContext({ ...tlsMaterial(), minVersion: 'TLSv1.2' })
    } catch {
      // Keep serving the previous certificate.
    }
  }
  watchFile(certPath, { persistent: false, interval: options.certificateCheckMs ?? 5000 }, reload)
  server.on('close', () => unwatchFile(certPath, reload))
  return server
}
