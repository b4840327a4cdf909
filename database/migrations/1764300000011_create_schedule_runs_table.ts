import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * One row per scheduled tick that ran. Every worker process fires the same
 * cron ticks; the unique (schedule, tick_at) pair lets exactly one of them
 * insert the row, and only that one runs the tick.
 */
export default class extends BaseSchema {
  protected tableName = 'schedule_runs'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.bigIncrements('id')
      table.string('schedule', 100).notNullable()
      table.timestamp('tick_at', { useTz: true }).notNullable()
      // running | succeeded | failed | enqueued (the tick handed its work to a job)
      table.string('status', 16).notNullable()
      table.string('worker_id', 128).notNullable()
      table.string('job_public_id', 26).nullable()
      table.text('error').nullable()
      table.timestamp('started_at', { useTz: true }).notNullable().index()
      table.timestamp('finished_at', { useTz: true }).nullable()
      table.unique(['schedule', 'tick_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
