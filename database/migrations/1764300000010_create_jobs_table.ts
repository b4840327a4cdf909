import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The durable job table. A row is written in the same transaction as the
 * change that calls for it, and a worker takes it with a lease (locked_by,
 * locked_until) so that it runs once even with several workers on several boxes.
 */
export default class extends BaseSchema {
  protected tableName = 'jobs'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('name', 100).notNullable().index()
      table.text('payload').notNullable()
      // pending | running | succeeded | failed (waiting for a retry) | dead
      table.string('status', 16).notNullable()
      table.integer('priority').notNullable().defaultTo(0)
      table.integer('attempts').notNullable().defaultTo(0)
      table.integer('max_attempts').notNullable()
      table.timestamp('run_at', { useTz: true }).notNullable()
      table.string('locked_by', 128).nullable()
      table.timestamp('locked_until', { useTz: true }).nullable()
      table.text('last_error').nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.timestamp('finished_at', { useTz: true }).nullable()
      // Claiming: due jobs by status and time; expired leases; pruning finished jobs.
      table.index(['status', 'run_at'])
      table.index(['status', 'locked_until'])
      table.index(['status', 'finished_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
