import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Days that change the weekly windows (holidays, exam weeks, closures) for
 * one group or for all of them, and per-person exceptions that allow or
 * deny one person at one zone until a time.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('access_holidays', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('name', 100).notNullable()
      // Local dates in the school's time zone, YYYY-MM-DD, both included.
      table.string('starts_on', 10).notNullable()
      table.string('ends_on', 10).notNullable()
      // closed, open (all day) or windows (the listed hours instead)
      table.string('effect', 16).notNullable()
      table.text('windows').nullable()
      // Null: every group.
      table
        .integer('group_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('access_groups')
        .onDelete('CASCADE')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['ends_on'])
    })
    this.schema.createTable('access_exceptions', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('RESTRICT')
      table
        .integer('zone_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('access_zones')
        .onDelete('RESTRICT')
      // allow or deny
      table.string('effect', 8).notNullable()
      table.timestamp('starts_at', { useTz: true }).notNullable()
      table.timestamp('ends_at', { useTz: true }).notNullable()
      table.string('note', 500).nullable()
      table.string('created_by', 100).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['person_id'])
      table.index(['zone_id', 'ends_at'])
    })
  }

  async down() {
    this.schema.dropTable('access_exceptions')
    this.schema.dropTable('access_holidays')
  }
}
