import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** Lists the integration API clients (never their secrets). */
export default class ApiClientList extends BaseCommand {
  static commandName = 'api:client-list'
  static description = 'List the integration API clients'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Print the list as JSON' })
  declare json?: boolean

  async run() {
    const { listApiClients } = await import('#identity/api/api_clients')
    const clients = await listApiClients()
    const rows = clients.map((client) => ({
      clientId: client.clientId,
      name: client.name,
      scopes: client.scopes,
      enabled: client.enabled,
      lastUsedAt: client.lastUsedAt?.toISO() ?? null,
      createdAt: client.createdAt.toISO(),
    }))
    if (this.json) {
      this.logger.log(JSON.stringify(rows, null, 2))
      return
    }
    if (rows.length === 0) {
      this.logger.info('No API clients')
      return
    }
    const table = this.ui.table()
    table.head(['client id', 'name', 'scopes', 'enabled', 'last used (UTC)'])
    for (const row of rows)
      table.row([
        row.clientId,
        row.name,
        row.scopes.join(' '),
        row.enabled ? 'yes' : 'no',
        row.lastUsedAt ?? '-',
      ])
    table.render()
  }
}
