import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * One row per payment at a shop (a campus code at a till, or a merchant code
 * scanned in the portal), written in the transaction that books the payment's
 * transfer. It answers what the ledger's postings do not say directly: which
 * shop and card, the holder's spending per day (limits), and how much of the
 * payment is left to refund. `refunded` only grows, in the transaction that
 * books each refund transfer (kind 'refund', refers_to the payment's).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('merchant_payments', (table) => {
      table.bigIncrements('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .bigint('transfer_id')
        .unsigned()
        .notNullable()
        .unique()
        .references('id')
        .inTable('ledger_transfers')
        .onDelete('RESTRICT')
      table
        .integer('merchant_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('merchants')
        .onDelete('RESTRICT')
      table
        .integer('shop_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('shops')
        .onDelete('RESTRICT')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('RESTRICT')
      table.integer('card_id').unsigned().nullable()
      // campus_code | merchant_code
      table.string('channel', 16).notNullable()
      table.bigint('amount').notNullable()
      table.bigint('refunded').notNullable().defaultTo(0)
      table.timestamp('paid_at', { useTz: true }).notNullable()
      table.index(['person_id', 'channel', 'paid_at'])
      table.index(['merchant_id', 'paid_at'])
      table.index(['shop_id', 'paid_at'])
      table.check('?? > 0', ['amount'], 'merchant_payments_amount_positive')
      table.check(
        '?? >= 0 AND ?? <= ??',
        ['refunded', 'refunded', 'amount'],
        'merchant_payments_refund_within'
      )
    })

    // A person's payment PIN for the portal's merchant-code payments.
    this.schema.createTable('payment_pins', (table) => {
      table.increments('id')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .unique()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.string('pin_hash', 255).notNullable()
      table.integer('failed_attempts').notNullable().defaultTo(0)
      table.timestamp('locked_until', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    // Payment limits and thresholds the finance office sets (docs/merchants.md).
    this.schema.createTable('payment_settings', (table) => {
      table.string('key', 48).primary()
      table.text('value').notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable('payment_settings')
    this.schema.dropTable('payment_pins')
    this.schema.dropTable('merchant_payments')
  }
}
