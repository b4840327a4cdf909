import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * End-of-day batch totals a terminal reports (对账): what the terminal
 * counted for one business day, beside what the ledger holds for it when
 * the batch was closed. A terminal may close a day again (after a late
 * upload); the row then holds the latest comparison.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('terminal_batch_closes', (table) => {
      table.bigIncrements('id')
      table.string('terminal_id', 26).notNullable()
      table.string('business_date', 10).notNullable()
      table.integer('reported_online_count').notNullable()
      table.bigint('reported_online_amount').notNullable()
      table.integer('reported_offline_count').notNullable()
      table.bigint('reported_offline_amount').notNullable()
      table.integer('ledger_online_count').notNullable()
      table.bigint('ledger_online_amount').notNullable()
      table.integer('ledger_offline_count').notNullable()
      table.bigint('ledger_offline_amount').notNullable()
      table.boolean('matched').notNullable()
      table.timestamp('closed_at', { useTz: true }).notNullable()
      table.unique(['terminal_id', 'business_date'])
    })
  }

  async down() {
    this.schema.dropTable('terminal_batch_closes')
  }
}
