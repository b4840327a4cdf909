import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Audiences: named selections of people by rules (identity types, org units,
 * statuses, enrollment years, explicit lists), resolved to person ids when a
 * module needs them. The rules are one JSON document, explicit person numbers
 * included: the same document is previewed, validated, stored, audited and
 * compiled, and the resolver binds each list as a single JSON parameter, so a
 * list of 50,000 numbers never meets the databases' bind-parameter limits.
 */
export default class extends BaseSchema {
  protected tableName = 'audiences'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('name', 120).notNullable()
      table.string('description', 500).nullable()
      table.text('rules').notNullable()
      table
        .integer('created_by')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.timestamp('archived_at', { useTz: true }).nullable()
      table.index(['archived_at', 'name'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
