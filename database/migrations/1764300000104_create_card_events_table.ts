import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * A card's history: every state change and binding, with who did it, why,
 * and the state before and after. A reissue or an upgrade links the old
 * card and the new one through related_card_id, in both directions.
 */
export default class extends BaseSchema {
  protected tableName = 'card_events'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id')
      table
        .integer('card_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('cards')
        .onDelete('RESTRICT')
      table.string('event', 32).notNullable()
      table.string('from_state', 20).nullable()
      table.string('to_state', 20).nullable()
      table.string('reason', 16).nullable()
      table.string('note', 500).nullable()
      table
        .integer('related_card_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('cards')
        .onDelete('RESTRICT')
      table.text('details').nullable()
      table.string('actor_type', 16).notNullable()
      table.string('actor_id', 64).nullable()
      table.string('actor_name', 100).nullable()
      table.timestamp('occurred_at', { useTz: true }).notNullable()
      table.index(['card_id', 'id'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
