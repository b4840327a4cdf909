import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * access_events: every access decision, online (the gateway asked) or
 * offline (a terminal decided from its synced rules and uploaded the record
 * later). An offline record is named by its terminal and the terminal's own
 * sequence number; the unique index makes a repeated upload record nothing.
 *
 * access_snapshots: the rules each access point last received, by content
 * digest, so that the version a terminal holds only moves when what it
 * needs changed.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('access_events', (table) => {
      table.bigIncrements('id')
      table.timestamp('occurred_at', { useTz: true }).notNullable()
      table.timestamp('recorded_at', { useTz: true }).notNullable()
      table
        .integer('point_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('access_points')
        .onDelete('SET NULL')
      table
        .integer('zone_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('access_zones')
        .onDelete('SET NULL')
      table.string('direction', 8).nullable()
      table
        .integer('person_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('people')
        .onDelete('SET NULL')
      table.string('card_no', 20).nullable()
      table.string('uid', 20).nullable()
      // code (campus code) or card (physical card UID)
      table.string('credential', 8).notNullable()
      table.boolean('allowed').notNullable()
      table.string('reason', 48).notNullable()
      // online or offline
      table.string('mode', 8).notNullable()
      table
        .integer('terminal_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('terminals')
        .onDelete('SET NULL')
      table.bigint('terminal_seq').nullable()
      table.integer('rules_version').nullable()
      table.index(['occurred_at'])
      table.index(['point_id', 'occurred_at'])
      table.index(['person_id', 'occurred_at'])
      table.index(['zone_id', 'occurred_at'])
      table.unique(['terminal_id', 'terminal_seq'])
    })
    this.schema.createTable('access_snapshots', (table) => {
      table
        .integer('point_id')
        .unsigned()
        .primary()
        .references('id')
        .inTable('access_points')
        .onDelete('CASCADE')
      table.integer('version').notNullable()
      table.string('etag', 64).notNullable()
      table.timestamp('built_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable('access_snapshots')
    this.schema.dropTable('access_events')
  }
}
