import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * The terminal gateway process: HTTPS with mutual TLS on its own port,
 * serving the /t/v1 protocol (docs/terminal-protocol.md) with the same
 * actions and database as the web process. It keeps nothing but a memory
 * of at most 2 s of which terminal a certificate belongs to: run one or more.
 * `bin/quad start` runs it beside the web process and the worker.
 */
export default class TerminalsServe extends BaseCommand {
  static commandName = 'terminals:serve'
  static description = 'Serve the terminal protocol (/t/v1, mutual TLS) until stopped'
  static options: CommandOptions = { startApp: true, staysAlive: true }

  @flags.number({ description: 'Port (default: QUAD_GATEWAY_PORT or 8444)' })
  declare port?: number

  @flags.string({ description: 'Address to listen on (default: HOST or 0.0.0.0)' })
  declare host?: string

  async run() {
    const { prepareStorageFolders } = await import('#appliance/services/storage_root')
    const { ensureCertificateAuthority, ensureServerCertificate } =
      await import('#appliance/services/pki')
    const { loadGatewayRouter } = await import('#terminals/gateway/route_files')
    const { createGatewayServer } = await import('#terminals/gateway/server')
    const { currentSchool } = await import('#appliance/services/school_settings')
    const { startSqliteCheckpointer } = await import('#core/services/sqlite_checkpointer')

    const port = this.port ?? Number(process.env.QUAD_GATEWAY_PORT ?? 8444)
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      this.logger.error('Invalid --port')
      this.exitCode = 1
      return this.terminate()
    }
    const host = this.host ?? process.env.HOST ?? '0.0.0.0'

    prepareStorageFolders()
    ensureCertificateAuthority()
    ensureServerCertificate()
    await currentSchool().catch(() => null)

    const logger = await this.app.container.make('logger')
    const router = await loadGatewayRouter()
    const server = createGatewayServer({
      router,
      logger: {
        info: (message, meta) => logger.info(meta ?? {}, message),
        warn: (message, meta) => logger.warn(meta ?? {}, message),
        error: (message, meta) => logger.error(meta ?? {}, message),
      },
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    const address = server.address()
    const actualPort = typeof address === 'object' && address ? address.port : port
    // Tests and supervisors read this line to learn the port.
    this.logger.info(`Terminal gateway listening on https://${host}:${actualPort}/t/v1`)

    // On SQLite, WAL checkpoints run on a thread of their own, not inside a payment's commit.
    const checkpointer = await startSqliteCheckpointer()

    const stop = async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await checkpointer?.stop()
    }
    this.app.terminating(stop)
    if (!this.app.managedByPm2) this.app.listenOnce('SIGINT', () => this.terminate())
  }
}
