/**
 * The terminal gateway for tests: the real mutual-TLS server on a free
 * port, with the appliance CA and server certificate in the test storage
 * root. Import after the app has booted.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Server } from 'node:https'
import type { GatewayServerOptions } from '#terminals/gateway/server'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestGateway {
  baseUrl: string
  caPem: string
  server: Server
  close(): Promise<void>
}

export interface StartGatewayOptions {
  /** Default: a free port. Pass the port of a gateway closed before to bring it back. */
  port?: number
  /**
   * Certificate → terminal memory. Default: this process's, which the
   * terminal actions update; a cache of its own makes the gateway learn of
   * changes only as a gateway in another process does.
   */
  certificates?: GatewayServerOptions['certificates']
}

export async function startGateway(options: StartGatewayOptions = {}): Promise<TestGateway> {
  const { prepareStorageFolders } = await import('#appliance/services/storage_root')
  const { ensureCertificateAuthority, ensureServerCertificate, pkiPaths } =
    await import('#appliance/services/pki')
  const { loadGatewayRouter } = await import('#terminals/gateway/route_files')
  const { createGatewayServer } = await import('#terminals/gateway/server')
  prepareStorageFolders()
  ensureCertificateAuthority()
  ensureServerCertificate()
  const server = createGatewayServer({
    router: await loadGatewayRouter(),
    certificates: options.certificates,
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
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

/**
 * `node ace terminals:serve` as a child process on a free port (what a kill -9
 * test and the benchmark need: a gateway that can die on its own); resolves
 * with its URL once it listens.
 */
export async function serveGatewayProcess(
  env: Record<string, string>,
  startTimeoutMs = 90_000
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    // The young generation as the appliance runs the gateway (docs/adr/0013).
    [
      '--max-semi-space-size=8',
      'ace',
      'terminals:serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-ansi',
    ],
    { cwd: join(import.meta.dirname, '../..'), env, stdio: ['ignore', 'pipe', 'pipe'] }
  )
  const url = await new Promise<string>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(
      () => reject(new Error(`gateway did not start: ${output}`)),
      startTimeoutMs
    )
    const read = (chunk: Buffer) => {
      output += chunk
      const match = output.match(/listening on (https:\/\/\S+?)\/t\/v1/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.on('exit', () => reject(new Error(`gateway exited: ${output}`)))
  })
  return { child, url }
}
