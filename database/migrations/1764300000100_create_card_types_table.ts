import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Card types: what kinds of electronic campus card the school issues
 * (student, teacher, staff, alumni, temporary, visitor…), who may hold each
 * (identity types, optionally narrowed by an audience), how long a card is
 * valid, and how its face looks. Eligibility, validity and face are JSON
 * documents validated by app/cards/services before every write.
 */
export default class extends BaseSchema {
  protected tableName = 'card_types'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('code', 32).notNullable().unique()
      table.string('name_zh', 64).notNullable()
      table.string('name_en', 64).notNullable()
      // JSON array of identity types; empty means any identity type.
      table.text('identity_types').notNullable()
      table
        .integer('audience_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('audiences')
        .onDelete('RESTRICT')
      table.text('validity').notNullable()
      table.text('face').notNullable()
      // Temporary and visitor cards carry a start and an end chosen at issuance.
      table.boolean('is_temporary').notNullable().defaultTo(false)
      table.boolean('enabled').notNullable().defaultTo(true)
      table.integer('sort_order').notNullable().defaultTo(0)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
