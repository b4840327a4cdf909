import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * What the OpenID Connect provider stores between requests: sessions,
 * interactions, grants, authorization and device codes, access and refresh
 * tokens. One row per (kind, id) with its JSON payload, its expiry, and the
 * keys the provider looks rows up by: a session's uid, a device code's user
 * code, the grant a token belongs to (to revoke them together) and the
 * person (account) it was issued for. Expired rows go in the hourly prune.
 */
export default class extends BaseSchema {
  protected tableName = 'oidc_payloads'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('kind', 40).notNullable()
      table.string('id', 255).notNullable()
      table.text('payload').notNullable()
      table.string('grant_id', 64).nullable()
      table.string('uid', 64).nullable()
      table.string('user_code', 64).nullable()
      table.string('account_id', 64).nullable()
      table.timestamp('expires_at', { useTz: true }).nullable()
      table.timestamp('consumed_at', { useTz: true }).nullable()
      table.primary(['kind', 'id'])
      table.index(['grant_id'])
      table.index(['uid'])
      table.index(['user_code'])
      table.index(['account_id'])
      table.index(['expires_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
