import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Merchants and their shops (docs/merchants.md). A merchant is the business
 * the school settles with (a canteen operator, the supermarket); a shop is
 * one of its points of sale, with a static merchant code (its `code_token`)
 * that holders scan in the portal. Terminals attach to shops.
 *
 * `split_rules` is a JSON list of parties with their shares in basis points
 * (summing to 10000); `commission_bp` is the school's commission on sales,
 * in basis points. Neither changes what a payment books: the merchant's
 * account is credited in full, and settlement applies the rules.
 *
 * ledger_accounts.merchant_id stays without a foreign key: SQLite cannot add
 * one to an existing table without rebuilding it (and its guard triggers).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('merchants', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      // A short number the school prints on statements (M0001…).
      table.string('code', 32).notNullable().unique()
      table.string('name', 100).notNullable()
      table.string('name_en', 100).nullable()
      table.string('category', 24).notNullable()
      table.string('status', 16).notNullable().defaultTo('enabled')
      table.string('contact_name', 100).nullable()
      table.integer('commission_bp').notNullable().defaultTo(0)
      table.text('split_rules').notNullable()
      // Days after a payment within which the merchant may refund it.
      table.integer('refund_window_days').notNullable().defaultTo(7)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.check(`?? in ('enabled', 'disabled')`, ['status'], 'merchants_status')
      table.check('?? >= 0 AND ?? <= 10000', ['commission_bp', 'commission_bp'], 'merchants_bp')
    })

    this.schema.createTable('shops', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('merchant_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('merchants')
        .onDelete('RESTRICT')
        .index()
      table.string('name', 100).notNullable()
      table.string('name_en', 100).nullable()
      table.string('location', 200).nullable()
      // Null: the merchant's category.
      table.string('category', 24).nullable()
      table.string('status', 16).notNullable().defaultTo('enabled')
      // The static merchant code's payload: random, unguessable, replaceable.
      table.string('code_token', 40).notNullable().unique()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.check(`?? in ('enabled', 'disabled')`, ['status'], 'shops_status')
    })
  }

  async down() {
    this.schema.dropTable('shops')
    this.schema.dropTable('merchants')
  }
}
