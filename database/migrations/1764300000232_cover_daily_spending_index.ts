import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The day's total of a holder's payments through a channel is read by
 * every payment (the daily limit). With the amount in the index, the sum is
 * read from the index alone instead of from each payment row.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('merchant_payments', (table) => {
      table.index(['person_id', 'channel', 'paid_at', 'amount'], 'merchant_payments_daily_total')
    })
    this.schema.alterTable('merchant_payments', (table) => {
      table.dropIndex(['person_id', 'channel', 'paid_at'])
    })
  }

  async down() {
    this.schema.alterTable('merchant_payments', (table) => {
      table.index(['person_id', 'channel', 'paid_at'])
    })
    this.schema.alterTable('merchant_payments', (table) => {
      table.dropIndex([], 'merchant_payments_daily_total')
    })
  }
}
