import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Integration API clients (school systems that push people and org changes)
 * and the idempotency keys of their writes. A client's secret is kept only
 * as a SHA-256 digest: it is 256 random bits, so the digest cannot be
 * reversed and needs no slow hash.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('api_clients', (table) => {
      table.increments('id')
      table.string('client_id', 40).notNullable().unique()
      table.string('name', 120).notNullable()
      table.string('secret_hash', 64).notNullable()
      table.string('scopes', 255).notNullable()
      table.boolean('enabled').notNullable().defaultTo(true)
      table.timestamp('last_used_at', { useTz: true }).nullable()
      table
        .integer('created_by')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    this.schema.createTable('api_idempotency_keys', (table) => {
      table.increments('id')
      table
        .integer('api_client_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('api_clients')
        .onDelete('CASCADE')
      table.string('key', 255).notNullable()
      table.string('request_hash', 64).notNullable()
      // Null while the first request with this key is still running.
      table.integer('response_status').nullable()
      table.text('response_body').nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.unique(['api_client_id', 'key'])
    })
  }

  async down() {
    this.schema.dropTable('api_idempotency_keys')
    this.schema.dropTable('api_clients')
  }
}
