import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Wallets beyond cash: batches of subsidies and meal vouchers, who each batch
 * reached, the lots (what is left of each batch in each person's wallet) and
 * every use of a lot, and the school's wallet settings (spending order, meal
 * windows, card-to-card limits). See docs/adr/0011.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('wallet_batches', (table) => {
      table.bigIncrements('id')
      table.string('public_id', 26).notNullable().unique()
      // subsidy | voucher
      table.string('kind', 16).notNullable()
      table.string('name', 100).notNullable()
      // draft | issuing | issued | swept
      table.string('status', 16).notNullable()
      // audience | list
      table.string('source', 16).notNullable()
      table.bigint('audience_id').unsigned().nullable()
      // JSON array of person numbers (list batches).
      table.text('person_numbers').nullable()
      // Fen per person (vouchers: meals × meal value).
      table.bigint('amount_per_person').notNullable()
      table.integer('meals_per_person').nullable()
      table.bigint('meal_value').nullable()
      // JSON arrays; empty means no restriction.
      table.text('meal_windows').notNullable().defaultTo('[]')
      table.text('merchant_categories').notNullable().defaultTo('[]')
      table.text('merchant_ids').notNullable().defaultTo('[]')
      table.text('identity_types').notNullable().defaultTo('[]')
      // Minutes after midnight, school time; both null: any time of day.
      table.integer('time_from').nullable()
      table.integer('time_to').nullable()
      table.timestamp('expires_at', { useTz: true }).notNullable()
      table.string('memo', 255).nullable()
      table.integer('recipients').notNullable().defaultTo(0)
      table.integer('issued_count').notNullable().defaultTo(0)
      table.integer('failed_count').notNullable().defaultTo(0)
      table.bigint('issued_total').notNullable().defaultTo(0)
      table.bigint('swept_total').notNullable().defaultTo(0)
      table.string('created_by', 64).nullable()
      table.timestamp('issued_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['kind', 'created_at'])
    })

    this.schema.createTable('wallet_batch_recipients', (table) => {
      table.bigIncrements('id')
      table
        .bigint('batch_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('wallet_batches')
        .onDelete('CASCADE')
      table.bigint('person_id').unsigned().notNullable()
      // issued | failed
      table.string('status', 16).notNullable()
      table.string('error', 64).nullable()
      table.bigint('amount').notNullable()
      table.bigint('transfer_id').unsigned().nullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['batch_id', 'person_id'])
    })

    this.schema.createTable('wallet_lots', (table) => {
      table.bigIncrements('id')
      // Null: money in the wallet that came from no batch (unrestricted, no expiry).
      table.bigint('batch_id').unsigned().nullable()
      table.bigint('person_id').unsigned().notNullable()
      table.bigint('account_id').unsigned().notNullable()
      // subsidy | voucher
      table.string('kind', 16).notNullable()
      table.bigint('issued').notNullable()
      table.bigint('remaining').notNullable()
      table.integer('meals_left').nullable()
      table.bigint('swept').notNullable().defaultTo(0)
      table.timestamp('expires_at', { useTz: true }).nullable()
      table.bigint('issue_transfer_id').unsigned().nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['batch_id', 'person_id'])
      table.index(['account_id', 'expires_at'])
      table.index(['expires_at', 'remaining'])
      table.check('?? >= 0', ['remaining'], 'wallet_lots_remaining_not_negative')
    })

    this.schema.createTable('wallet_lot_uses', (table) => {
      table.bigIncrements('id')
      table.bigint('lot_id').unsigned().notNullable().references('id').inTable('wallet_lots')
      table.bigint('person_id').unsigned().notNullable()
      // The transfer that moved the money (null: a correction of drift).
      table.bigint('transfer_id').unsigned().nullable()
      // spend | return | sweep | settle
      table.string('kind', 16).notNullable()
      // Fen taken from the lot (negative: put back).
      table.bigint('amount').notNullable()
      table.integer('meals').notNullable().defaultTo(0)
      // Vouchers: the meal window used, "2026-12-02:lunch".
      table.string('meal_slot', 32).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['lot_id'])
      table.index(['transfer_id'])
      table.index(['person_id', 'meal_slot'])
    })

    this.schema.createTable('wallet_settings', (table) => {
      table.string('key', 64).primary()
      table.text('value').notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable('wallet_settings')
    this.schema.dropTable('wallet_lot_uses')
    this.schema.dropTable('wallet_lots')
    this.schema.dropTable('wallet_batch_recipients')
    this.schema.dropTable('wallet_batches')
  }
}
