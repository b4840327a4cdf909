import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Access groups: the people of an audience may pass the access points of
 * some zones (and the zones inside them) during weekly time windows, kept
 * as JSON ([{ days: [1..7], from: "06:00", to: "23:30" }], school time).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('access_groups', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('name', 100).notNullable()
      table
        .integer('audience_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('audiences')
        .onDelete('RESTRICT')
      table.text('windows').notNullable()
      table.boolean('enabled').notNullable().defaultTo(true)
      table.string('description', 500).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
    this.schema.createTable('access_group_zones', (table) => {
      table
        .integer('group_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('access_groups')
        .onDelete('CASCADE')
      table
        .integer('zone_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('access_zones')
        .onDelete('RESTRICT')
      table.primary(['group_id', 'zone_id'])
      table.index(['zone_id'])
    })
  }

  async down() {
    this.schema.dropTable('access_group_zones')
    this.schema.dropTable('access_groups')
  }
}
