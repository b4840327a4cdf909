import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The phone that shows a card's campus code: its device public key, bound
 * at activation in the portal. A card has at most one device in use;
 * activating on a new phone revokes the old one. Rows stay as history.
 */
export default class extends BaseSchema {
  protected tableName = 'card_devices'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('card_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('cards')
        .onDelete('RESTRICT')
      // Raw Ed25519 public key, lower-case hex (64 characters).
      table.string('public_key', 64).notNullable()
      table.string('label', 120).nullable()
      table.timestamp('last_renewed_at', { useTz: true }).notNullable()
      table.timestamp('revoked_at', { useTz: true }).nullable()
      table.string('revoked_reason', 16).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['card_id'])
      table.index(['public_key'])
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX card_devices_card_in_use ON card_devices (card_id) WHERE revoked_at IS NULL`
    )
  }

  async down() {
    this.schema.raw('DROP INDEX IF EXISTS card_devices_card_in_use')
    this.schema.dropTable(this.tableName)
  }
}
