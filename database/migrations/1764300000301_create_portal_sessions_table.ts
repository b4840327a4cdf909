import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Portal sessions: the single sign-on session of a person, separate from the
 * console's. The browser holds 256 random bits in a cookie; only their
 * SHA-256 digest is stored, so a copy of this table signs nobody in.
 * Ended sessions keep their row (with the reason) until the hourly prune.
 */
export default class extends BaseSchema {
  protected tableName = 'portal_sessions'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('token_hash', 64).notNullable().unique()
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      // password or qr: how the session began.
      table.string('method', 16).notNullable()
      table.boolean('second_factor_passed').notNullable().defaultTo(false)
      table.boolean('remembered').notNullable().defaultTo(false)
      table.integer('idle_timeout_seconds').notNullable()
      table.timestamp('expires_at', { useTz: true }).notNullable()
      table.timestamp('last_seen_at', { useTz: true }).notNullable()
      table.string('ip', 45).nullable()
      table.string('user_agent', 255).nullable()
      table.string('device_label', 64).notNullable()
      table.timestamp('ended_at', { useTz: true }).nullable()
      // signed_out, revoked, idle, expired, password_changed, refused.
      table.string('end_reason', 24).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['person_id', 'ended_at'])
      table.index(['expires_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
