import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Access control places: zones (campus areas, optionally nested: a dorm
 * building inside the north campus) and access points (doors, gates,
 * turnstiles) that belong to one zone, face one direction and may be
 * driven by an enrolled terminal.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('access_zones', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('code', 32).notNullable().unique()
      table.string('name', 100).notNullable()
      table
        .integer('parent_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('access_zones')
        .onDelete('RESTRICT')
      table.string('description', 500).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['parent_id'])
    })
    this.schema.createTable('access_points', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('code', 32).notNullable().unique()
      table.string('name', 100).notNullable()
      table
        .integer('zone_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('access_zones')
        .onDelete('RESTRICT')
      // door, gate or turnstile
      table.string('kind', 16).notNullable()
      // in or out: what a passage through it means
      table.string('direction', 8).notNullable()
      table
        .integer('terminal_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('terminals')
        .onDelete('SET NULL')
      table.boolean('enabled').notNullable().defaultTo(true)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['zone_id'])
      table.index(['terminal_id'])
    })
  }

  async down() {
    this.schema.dropTable('access_points')
    this.schema.dropTable('access_zones')
  }
}
