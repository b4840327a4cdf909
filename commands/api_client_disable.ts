import { args, BaseCommand } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** Refuses every further request of an integration API client. */
export default class ApiClientDisable extends BaseCommand {
  static commandName = 'api:client-disable'
  static description = 'Disable an integration API client'
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'The client id (qc_…)' })
  declare clientId: string

  async run() {
    const { disableApiClient } = await import('#identity/api/api_clients')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const result = await disableApiClient(this.clientId, SYSTEM_ACTOR)
    if (!result.ok) {
      this.logger.error(`Not disabled: ${result.error}`)
      this.exitCode = 1
      return
    }
    this.logger.success(`Disabled API client ${this.clientId}`)
  }
}
