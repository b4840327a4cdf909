import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * One-time use of campus codes on the server (docs/campus-code.md §9).
 *
 * card_seen_codes holds every code id the server has accepted, until the
 * code could no longer verify anyway (expires_at); its primary key makes a
 * claim atomic: of two requests claiming one code id, one insert wins and
 * the other meets the key. A scheduled job deletes expired rows.
 *
 * card_code_replays records each code presented again: which card, which
 * code id, at which verifier and when. The rows are kept (the console
 * lists them), and the recent ones of a card are counted to freeze it.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('card_seen_codes', (table) => {
      table.string('code_id', 32).primary()
      table
        .integer('card_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('cards')
        .onDelete('SET NULL')
      table.string('card_no', 16).notNullable()
      table.timestamp('first_seen_at', { useTz: true }).notNullable()
      table.string('first_seen_by', 100).notNullable()
      table.timestamp('expires_at', { useTz: true }).notNullable()
      table.index(['expires_at'])
    })
    this.schema.createTable('card_code_replays', (table) => {
      table.bigIncrements('id')
      table
        .integer('card_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('cards')
        .onDelete('SET NULL')
      table.string('card_no', 16).notNullable()
      table.string('code_id', 32).notNullable()
      table.string('verifier', 100).notNullable()
      table.timestamp('seen_at', { useTz: true }).notNullable()
      table.boolean('froze_card').notNullable().defaultTo(false)
      table.index(['card_id', 'seen_at'])
      table.index(['seen_at'])
      table.index(['card_no'])
    })
  }

  async down() {
    this.schema.dropTable('card_code_replays')
    this.schema.dropTable('card_seen_codes')
  }
}
