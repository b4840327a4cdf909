import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * CAS service tickets: one row per ticket Quad handed a campus app. The
 * ticket itself is kept only as a SHA-256 digest (for validation) and
 * encrypted (for the single-logout message, which must name it). A ticket
 * is spent by a conditional UPDATE of consumed_at, so two racing
 * validations cannot both succeed. The rows of a portal session say which
 * services to notify when the person signs out through CAS.
 */
export default class extends BaseSchema {
  protected tableName = 'cas_tickets'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id')
      table.string('ticket_hash', 64).notNullable().unique()
      table.text('ticket_ciphertext').notNullable()
      table
        .integer('app_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('apps')
        .onDelete('CASCADE')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.integer('portal_session_id').unsigned().notNullable()
      table.text('service').notNullable()
      table.boolean('from_new_login').notNullable().defaultTo(false)
      table.timestamp('authenticated_at', { useTz: true }).notNullable()
      table.timestamp('expires_at', { useTz: true }).notNullable()
      table.timestamp('consumed_at', { useTz: true }).nullable()
      table.timestamp('logout_sent_at', { useTz: true }).nullable()
      table.string('logout_result', 100).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['portal_session_id'])
      table.index(['expires_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
