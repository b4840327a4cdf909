import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Daily settlement statements and merchant report links (docs/reports.md).
 *
 * A statement is one merchant's day in the school's time zone: payments,
 * refunds, net, the school's commission and the split of the rest among the
 * merchant's parties, read from the merchant account's postings. A draft is
 * worked out again each time statements are generated; once confirmed it
 * never changes, and a recorded payout (a ledger transfer from the merchant
 * account to the payout clearing account) marks it paid.
 *
 * A merchant report link lets a shop owner read the mobile report without
 * a console account: only the SHA-256 of its secret token is kept.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('settlement_statements', (table) => {
      table.bigIncrements('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('merchant_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('merchants')
        .onDelete('RESTRICT')
      // yyyy-MM-dd in `zone`.
      table.string('day', 10).notNullable()
      table.string('zone', 64).notNullable()
      table.timestamp('period_from', { useTz: true }).notNullable()
      table.timestamp('period_to', { useTz: true }).notNullable()
      table.integer('payments_count').notNullable().defaultTo(0)
      table.bigint('payments_amount').notNullable().defaultTo(0)
      table.integer('refunds_count').notNullable().defaultTo(0)
      table.bigint('refunds_amount').notNullable().defaultTo(0)
      table.bigint('net').notNullable().defaultTo(0)
      table.integer('commission_bp').notNullable().defaultTo(0)
      table.bigint('commission').notNullable().defaultTo(0)
      table.bigint('payable').notNullable().defaultTo(0)
      // JSON: [{ party, basisPoints, amount }], amounts summing to `payable`.
      table.text('split').notNullable()
      // draft | confirmed | paid
      table.string('status', 16).notNullable().defaultTo('draft')
      table.timestamp('generated_at', { useTz: true }).notNullable()
      table.timestamp('confirmed_at', { useTz: true }).nullable()
      table.string('confirmed_by', 100).nullable()
      table
        .bigint('payout_transfer_id')
        .unsigned()
        .nullable()
        .unique()
        .references('id')
        .inTable('ledger_transfers')
        .onDelete('RESTRICT')
      table.timestamp('paid_at', { useTz: true }).nullable()
      table.string('paid_by', 100).nullable()
      table.string('payout_reference', 100).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['merchant_id', 'day'])
      table.index(['day'])
      table.check(
        `?? in ('draft', 'confirmed', 'paid')`,
        ['status'],
        'settlement_statements_status'
      )
      table.check(
        '?? = ?? - ??',
        ['net', 'payments_amount', 'refunds_amount'],
        'settlement_statements_net'
      )
      table.check('?? = ?? - ??', ['payable', 'net', 'commission'], 'settlement_statements_payable')
    })

    this.schema.createTable('merchant_report_links', (table) => {
      table.increments('id')
      table
        .integer('merchant_id')
        .unsigned()
        .notNullable()
        .unique()
        .references('id')
        .inTable('merchants')
        .onDelete('CASCADE')
      // Hex SHA-256 of the secret token in the link.
      table.string('token_hash', 64).notNullable().unique()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable('merchant_report_links')
    this.schema.dropTable('settlement_statements')
  }
}
