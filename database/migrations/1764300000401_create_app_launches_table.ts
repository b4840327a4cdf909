import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * One row per launch of an app from the portal's service hall: what the
 * console counts and charts per app. Rows go with their app or person.
 */
export default class extends BaseSchema {
  protected tableName = 'app_launches'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id')
      table
        .integer('app_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('apps')
        .onDelete('CASCADE')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.timestamp('launched_at', { useTz: true }).notNullable()
      table.index(['app_id', 'launched_at'])
      table.index(['person_id'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
