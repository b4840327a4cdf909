import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Physical cards (Mifare and similar) bound to a person's card by their chip
 * UID. A UID is bound to at most one card at a time, and a card has at most
 * one bound physical card; rows of past bindings stay as history.
 */
export default class extends BaseSchema {
  protected tableName = 'physical_cards'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      // Upper-case hex: 8, 14 or 20 characters (4, 7 or 10-byte UIDs).
      table.string('uid', 20).notNullable()
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('RESTRICT')
      table
        .integer('card_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('cards')
        .onDelete('RESTRICT')
      table.string('state', 16).notNullable()
      table.timestamp('bound_at', { useTz: true }).notNullable()
      table.timestamp('unbound_at', { useTz: true }).nullable()
      table.string('unbound_reason', 16).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['uid'])
      table.index(['card_id'])
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX physical_cards_uid_bound ON physical_cards (uid) WHERE state = 'bound'`
    )
    this.schema.raw(
      `CREATE UNIQUE INDEX physical_cards_card_bound ON physical_cards (card_id) WHERE state = 'bound'`
    )
  }

  async down() {
    this.schema.raw('DROP INDEX IF EXISTS physical_cards_uid_bound')
    this.schema.raw('DROP INDEX IF EXISTS physical_cards_card_bound')
    this.schema.dropTable(this.tableName)
  }
}
