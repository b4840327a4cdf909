import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Card issuances: one row per bulk issuance (every eligible person, a list
 * of person numbers, or an audience), from the moment it is queued to the
 * end of its job, with progress and the summary the console shows.
 */
export default class extends BaseSchema {
  protected tableName = 'card_issuances'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('card_type_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('card_types')
        .onDelete('RESTRICT')
      table.string('target', 16).notNullable()
      table
        .integer('audience_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('audiences')
        .onDelete('RESTRICT')
      // The person numbers of a list issuance, with their lines (JSON).
      table.text('targets').nullable()
      table.string('source_name', 255).nullable()
      // The window of temporary and visitor cards.
      table.timestamp('valid_from', { useTz: true }).nullable()
      table.timestamp('valid_until', { useTz: true }).nullable()
      table.string('status', 16).notNullable()
      table.integer('total_count').notNullable().defaultTo(0)
      table.integer('done_count').notNullable().defaultTo(0)
      table.integer('issued_count').notNullable().defaultTo(0)
      table.integer('skipped_count').notNullable().defaultTo(0)
      table.integer('error_count').notNullable().defaultTo(0)
      // Row errors (JSON), the first thousand.
      table.text('errors').nullable()
      table.text('actor').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.timestamp('started_at', { useTz: true }).nullable()
      table.timestamp('finished_at', { useTz: true }).nullable()
      table.index(['created_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
