/**
 * The terminal gateway for tests: the real mutual-TLS server on a free
 * port, with the appliance CA and server certificate in the test storage
 * root. Import after the app has booted.
 */
import type { Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'

export interface TestGateway {
  baseUrl: string
  caPem: string
  server: Server
  close(): Promise<void>
}

export async function startGateway(): Promise<TestGateway> {
  const { prepareStorageFolders } = await import('#appliance/services/storage_root')
  const { ensureCertificateAuthority, ensureServerCertificate, pkiPaths } =
    await import('#appliance/services/pki')
  const { loadGatewayRouter } = await import('#terminals/gateway/route_files')
  const { createGatewayServer } = await import('#terminals/gateway/server')
  prepareStorageFolders()
  ensureCertificateAuthority()
  ensureServerCertificate()
  const server = createGatewayServer({ router: await loadGatewayRouter() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    baseUrl: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: readFileSync(pkiPaths.caCert(), 'utf8'),
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A terminal registered in the console; returns its public id and one-time code. */
export async function givenTerminal(
  kind: 'pos' | 'gate' | 'door' | 'checkin' | 'kiosk' = 'pos',
  name = 'Canteen till 1'
) {
  const { createTerminal } = await import('#terminals/actions/create_terminal')
  const result = await createTerminal({ type: 'system', name: 'test' }, { name, kind })
  if (!result.ok) throw new Error('terminal not created')
  return { publicId: result.value.terminal.publicId, code: result.value.enrollmentCode }
}
