import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The history shown on a person's and an org unit's page: who changed what,
 * when and why. `changes` is JSON of { field: [before, after] } with personal
 * data masked; the audit log keeps the tamper-evident record, these tables
 * the per-record view of it.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('person_changes', (table) => {
      table.increments('id')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.string('kind', 24).notNullable()
      table.text('changes').notNullable()
      table.string('reason', 500).nullable()
      table.string('actor_type', 16).notNullable()
      table.string('actor_id', 64).nullable()
      table.string('actor_name', 128).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['person_id', 'id'])
    })
    this.schema.createTable('org_unit_changes', (table) => {
      table.increments('id')
      table
        .integer('org_unit_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('org_units')
        .onDelete('CASCADE')
      table.string('kind', 24).notNullable()
      table.text('changes').notNullable()
      table.string('reason', 500).nullable()
      table.string('actor_type', 16).notNullable()
      table.string('actor_id', 64).nullable()
      table.string('actor_name', 128).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['org_unit_id', 'id'])
    })
  }

  async down() {
    this.schema.dropTable('org_unit_changes')
    this.schema.dropTable('person_changes')
  }
}
