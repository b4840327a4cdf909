import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import { ensureCertificateAuthority, ensureServerCertificate, pkiPaths } from './pki.js'
import { prepareStorageFolders } from './storage_root.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown

/** True unless QUAD_TLS is set to false (TLS terminated by a proxy, or tests). */
export function tlsEnabled(): boolean {
  return !['false', '0', 'no', 'off'].includes((process.env.QUAD_TLS ?? 'true').toLowerCase())
}

/**
 * Builds the Node server that AdonisJS listens on: HTTPS with the appliance
 * certificate, created on first start if setup has not made one yet.
 */
export function createQuadServer(handler: Handler) {
  if (!tlsEnabled()) return createHttpServer(handler)
  prepareStorageFolders()
  ensureCertificateAuthority()
  ensureServerCertificate()
  return createHttpsServer(
    {
      key: readFileSync(pkiPaths.serverKey()),
      cert: readFileSync(pkiPaths.serverCert()) + '\n' + readFileSync(pkiPaths.caCert()),
      minVersion: 'TLSv1.2',
    },
    handler
  )
}
