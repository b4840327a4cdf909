import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Upgrade rules: when a holder's situation changes (they graduate, or their
 * expected graduation date passes), the nightly job ends their card of one
 * type and issues a card of another (student → alumni).
 */
export default class extends BaseSchema {
  protected tableName = 'card_upgrade_rules'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('from_type_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('card_types')
        .onDelete('RESTRICT')
      table
        .integer('to_type_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('card_types')
        .onDelete('RESTRICT')
      table.string('trigger', 32).notNullable()
      table.boolean('enabled').notNullable().defaultTo(true)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['from_type_id', 'to_type_id', 'trigger'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
