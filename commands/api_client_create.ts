import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** Registers an integration API client and prints its secret, once. */
export default class ApiClientCreate extends BaseCommand {
  static commandName = 'api:client-create'
  static description = 'Create an integration API client and print its credentials once'
  static options: CommandOptions = { startApp: true }

  @flags.string({ description: 'A name that says which system uses it', required: true })
  declare name: string

  @flags.string({
    description: 'Comma-separated: people:read,people:write,org:read,org:write',
    required: true,
  })
  declare scopes: string

  async run() {
    const { createApiClient, parseScopes } = await import('#identity/api/api_clients')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const scopes = parseScopes(this.scopes ?? '')
    if (!scopes) {
      this.logger.error('Unknown scope; use people:read, people:write, org:read, org:write')
      this.exitCode = 1
      return
    }
    const result = await createApiClient({ name: this.name ?? '', scopes }, SYSTEM_ACTOR)
    if (!result.ok) {
      this.logger.error(`Not created: ${result.error}`)
      this.exitCode = 1
      return
    }
    this.logger.success(`Created API client ${result.value.client.clientId}`)
    this.logger.log(`client id: ${result.value.client.clientId}`)
    this.logger.log(`secret:    ${result.value.secret}`)
    this.logger.log(`token:     ${result.value.token}`)
    this.logger.warning('The secret is shown only now; Quad keeps only its hash.')
  }
}
