import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Directory sync: the LDAP / Active Directory servers people are read from,
 * which person came from which server, and every run against them.
 *
 * The bind password is kept encrypted with the app key and never shown
 * again. `directory_links` lets a run tell the people who vanished from a
 * directory from the people who were never in it; `vanish_status` records
 * the status the sync itself set, so that a person who reappears is given
 * back their active status only if nobody changed it meanwhile.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('directory_sources', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('name', 64).notNullable().unique()
      table.string('url', 255).notNullable()
      table.boolean('start_tls').notNullable().defaultTo(false)
      table.text('ca_certificate').nullable()
      table.string('bind_dn', 512).nullable()
      table.text('bind_password').nullable()
      table.string('base_dn', 512).notNullable()
      table.string('search_filter', 1024).notNullable()
      table.string('scope', 8).notNullable()
      table.integer('page_size').notNullable()
      table.integer('timeout_seconds').notNullable()
      // Which attribute (or fixed value) fills which person field (JSON).
      table.text('mapping').notNullable()
      table.string('vanished_action', 16).notNullable()
      table.integer('vanish_limit_percent').notNullable()
      table.string('schedule', 8).notNullable()
      table.string('schedule_time', 5).nullable()
      // Scheduled runs only count slots after this time (when the schedule was last set).
      table.timestamp('scheduled_from', { useTz: true }).nullable()
      table.boolean('enabled').notNullable().defaultTo(true)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    this.schema.createTable('directory_links', (table) => {
      table.increments('id')
      table
        .integer('source_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('directory_sources')
        .onDelete('CASCADE')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.string('entry_dn', 1024).notNullable()
      table.timestamp('last_seen_at', { useTz: true }).notNullable()
      table.timestamp('vanished_at', { useTz: true }).nullable()
      table.string('vanish_status', 16).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['source_id', 'person_id'])
      table.index(['person_id'])
    })

    this.schema.createTable('directory_sync_runs', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('source_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('directory_sources')
        .onDelete('CASCADE')
      table.string('mode', 8).notNullable()
      table.string('trigger', 16).notNullable()
      table.string('status', 16).notNullable()
      table.string('phase', 16).nullable()
      table.integer('preview_run_id').unsigned().nullable()
      table.string('job_public_id', 26).nullable()
      table.integer('entries_count').notNullable().defaultTo(0)
      table.integer('created_count').notNullable().defaultTo(0)
      table.integer('updated_count').notNullable().defaultTo(0)
      table.integer('unchanged_count').notNullable().defaultTo(0)
      table.integer('vanished_count').notNullable().defaultTo(0)
      table.integer('invalid_count').notNullable().defaultTo(0)
      table.integer('done_count').notNullable().defaultTo(0)
      table.integer('total_count').notNullable().defaultTo(0)
      // The first rows of each category (JSON); masked values only.
      table.text('diff').nullable()
      // Why the run was blocked or failed: { code, params } (JSON).
      table.text('problem').nullable()
      table.text('actor').notNullable()
      table.timestamp('scheduled_for', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.timestamp('started_at', { useTz: true }).nullable()
      table.timestamp('finished_at', { useTz: true }).nullable()
      table.index(['source_id', 'created_at'])
      table.index(['status'])
    })
  }

  async down() {
    this.schema.dropTable('directory_sync_runs')
    this.schema.dropTable('directory_links')
    this.schema.dropTable('directory_sources')
  }
}
