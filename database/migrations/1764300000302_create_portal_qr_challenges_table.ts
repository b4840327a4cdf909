import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * QR login: a desktop browser shows a one-time challenge, a phone signed in
 * to the portal approves it, and the desktop that holds the matching cookie
 * redeems it once. Both secrets (the one in the QR code and the one in the
 * desktop's cookie) are stored as SHA-256 digests only.
 */
export default class extends BaseSchema {
  protected tableName = 'portal_qr_challenges'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('token_hash', 64).notNullable().unique()
      table.string('browser_hash', 64).notNullable()
      // pending, scanned, approved, rejected, redeemed.
      table.string('status', 16).notNullable()
      table.string('desktop_ip', 45).nullable()
      table.string('desktop_user_agent', 255).nullable()
      table.string('desktop_label', 64).notNullable()
      table
        .integer('person_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.boolean('second_factor_passed').notNullable().defaultTo(false)
      table.timestamp('expires_at', { useTz: true }).notNullable().index()
      table.timestamp('decided_at', { useTz: true }).nullable()
      table.timestamp('redeemed_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
