import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Arrears reminders (补缴提醒): one row per holder and day on which the
 * reminder job found arrears outstanding. The portal shows the latest; a
 * messaging module, when there is one, sends them. `amount` is what was
 * owed when the reminder was made.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('arrears_reminders', (table) => {
      table.bigIncrements('id')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('RESTRICT')
      table.bigint('amount').notNullable()
      // The school day (YYYY-MM-DD) of the reminder: one per holder per day.
      table.string('reminded_on', 10).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.unique(['person_id', 'reminded_on'])
    })
  }

  async down() {
    this.schema.dropTable('arrears_reminders')
  }
}
