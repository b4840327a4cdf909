import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * How a person signs in to the portal. One row per person, created when an
 * admin sets the first password: a person without a row cannot sign in.
 * The password is a scrypt hash; the optional TOTP secret is encrypted with
 * the app key, as console accounts' secrets are.
 */
export default class extends BaseSchema {
  protected tableName = 'portal_credentials'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .unique()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.string('password_hash', 255).notNullable()
      // Set when an admin chose the password: the person replaces it at the next sign-in.
      table.boolean('must_change_password').notNullable().defaultTo(true)
      table.timestamp('password_changed_at', { useTz: true }).notNullable()
      table.text('totp_secret').nullable()
      table.timestamp('totp_enabled_at', { useTz: true }).nullable()
      table.bigint('totp_last_step').nullable()
      table.integer('failed_count').notNullable().defaultTo(0)
      table.timestamp('locked_until', { useTz: true }).nullable()
      table.timestamp('last_sign_in_at', { useTz: true }).nullable()
      table.string('last_sign_in_ip', 45).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
