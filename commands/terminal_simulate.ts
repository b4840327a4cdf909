import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * The reference terminal on the command line: enrolls with a one-time code
 * (first run), then fetches its configuration, syncs (a door or gate also
 * its access rules), uploads the records it stored offline and sends
 * heartbeats, keeping its key, certificate, synced rules and records in a
 * state file like a real terminal keeps them in flash. Needs no database:
 * it is a terminal.
 */
export default class TerminalSimulate extends BaseCommand {
  static commandName = 'terminal:simulate'
  static description =
    'Run the reference terminal against a gateway: enroll, sync, heartbeat (docs/terminal-protocol.md)'
  static options: CommandOptions = { startApp: false, staysAlive: false }

  @flags.string({ description: 'Gateway URL', default: 'https://127.0.0.1:8444' })
  declare url: string

  @flags.string({ description: 'One-time enrollment code from the console (first run)' })
  declare code?: string

  @flags.string({
    description: 'State file: key, certificate, synced lists, records',
    default: 'quad-terminal.json',
  })
  declare state: string

  @flags.string({ flagName: 'ca', description: 'Appliance CA certificate (PEM file) to trust' })
  declare caFile?: string

  @flags.string({
    flagName: 'ca-fingerprint',
    description: 'SHA-256 of the appliance CA, as the console shows it, checked at enrollment',
  })
  declare caFingerprint?: string

  @flags.number({ description: 'Heartbeats to send (0: run until stopped)', default: 1 })
  declare heartbeats: number

  @flags.number({ description: 'Seconds between heartbeats', default: 30 })
  declare interval: number

  @flags.number({
    flagName: 'clock-offset',
    description: 'Seconds to add to this terminal’s clock (simulates a wrong clock)',
    default: 0,
  })
  declare clockOffset: number

  async run() {
    const { readFileSync } = await import('node:fs')
    const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
    const { GatewayRequestError } = await import('#terminals/simulator/client')

    if (!this.caFile && !this.caFingerprint && !this.code) {
      // Enrolled already: the state file holds the CA.
    } else if (!this.caFile && !this.caFingerprint) {
      this.logger.warning(
        'No --ca or --ca-fingerprint: the gateway is trusted on first use for enrollment'
      )
    }
    const terminal = new SimulatedTerminal({
      baseUrl: this.url,
      caPem: this.caFile ? readFileSync(this.caFile, 'utf8') : undefined,
      caFingerprint: this.caFingerprint,
      statePath: this.state,
      clockOffsetMs: this.clockOffset * 1000,
    })
    try {
      if (!terminal.enrolled) {
        if (!this.code) {
          this.logger.error('Not enrolled yet: pass --code with the console’s enrollment code')
          this.exitCode = 1
          return
        }
        const { terminalId, fingerprint } = await terminal.enroll(this.code)
        this.logger.success(`Enrolled as terminal ${terminalId} (certificate ${fingerprint})`)
      }
      const config = await terminal.fetchConfig()
      this.logger.info(
        `Terminal ${config.terminal.id} "${config.terminal.name}" (${config.terminal.kind}); ` +
          `offline limits ${JSON.stringify(config.offline_limits)}`
      )
      const sync = await terminal.sync()
      this.logger.info(
        `Synced ${sync.issuer_keys.length} issuer key(s), blacklist version ${sync.blacklist.version} ` +
          `(+${sync.blacklist.added.length} −${sync.blacklist.removed.length})`
      )
      for (const [point, rules] of Object.entries(terminal.state.synced.accessRules)) {
        this.logger.info(
          `Access rules of point ${point}: version ${rules.version}, ` +
            `${rules.snapshot.holders.length} holder(s), ${rules.snapshot.groups.length} group(s)`
        )
      }
      // Decisions and payments stored offline in the state file go up now that the gateway answers.
      if (terminal.records.pending(1, 'access').length > 0) {
        const { sent } = await terminal.uploadAccessEvents()
        this.logger.info(`Uploaded ${sent} offline access decision(s)`)
      }
      if (terminal.records.pending(1, 'payment').length > 0) {
        const { sent } = await terminal.uploadOffline()
        this.logger.info(`Uploaded ${sent} offline payment(s)`)
      }
      for (let sent = 0; this.heartbeats === 0 || sent < this.heartbeats; sent++) {
        if (sent > 0) await new Promise((resolve) => setTimeout(resolve, this.interval * 1000))
        const beat = await terminal.heartbeat()
        this.logger.info(`Heartbeat: clock ${beat.clock_status}, drift ${beat.drift_ms} ms`)
        if (beat.clock_status === 'skewed') {
          this.logger.warning('Clock skewed: a real terminal sets its clock from server_time now')
        }
      }
    } catch (error) {
      if (error instanceof GatewayRequestError) {
        this.logger.error(`Gateway refused: ${error.code} (HTTP ${error.status})`)
      } else {
        this.logger.error(`Gateway unreachable: ${error instanceof Error ? error.message : error}`)
      }
      this.exitCode = 1
    } finally {
      terminal.close()
    }
  }
}
