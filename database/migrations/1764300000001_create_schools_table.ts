import { BaseSchema } from '@adonisjs/lucid/schema'

/** The school this appliance serves: one row, written by the first-run setup. */
export default class extends BaseSchema {
  protected tableName = 'schools'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('name', 120).notNullable()
      table.string('code', 32).notNullable().unique()
      table.string('time_zone', 64).notNullable()
      table.string('default_locale', 8).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
