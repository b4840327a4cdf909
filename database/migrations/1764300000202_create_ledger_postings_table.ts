import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Postings: the lines of a transfer, one per account. `balance_after` is the
 * account's balance once this posting applied; per account, in id order, the
 * postings form a chain (previous balance_after + amount = balance_after) that
 * `node ace ledger:verify` walks. `booked_at` repeats the transfer's time so
 * that a day's postings are found without reading the transfers.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('ledger_postings', (table) => {
      table.bigIncrements('id')
      table
        .bigint('transfer_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('ledger_transfers')
        .onDelete('RESTRICT')
        .index()
      table
        .integer('account_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('ledger_accounts')
        .onDelete('RESTRICT')
      table.bigint('amount').notNullable()
      table.bigint('balance_after').notNullable()
      table.timestamp('booked_at', { useTz: true }).notNullable().index()
      table.index(['account_id', 'id'])
      table.check('?? <> 0', ['amount'], 'ledger_postings_amount_not_zero')
    })

    if (this.db.dialect.name === 'postgres') {
      this.schema.raw(`
        CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
        FOR EACH ROW EXECUTE FUNCTION quad_ledger_append_only()`)
    } else {
      this.schema.raw(`
        CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
        BEGIN SELECT RAISE(ABORT, 'ledger_postings is append-only: book a reversal instead'); END`)
      this.schema.raw(`
        CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
        BEGIN SELECT RAISE(ABORT, 'ledger_postings is append-only: book a reversal instead'); END`)
    }
  }

  async down() {
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw('DROP TRIGGER IF EXISTS ledger_postings_append_only ON ledger_postings')
    }
    this.schema.dropTable('ledger_postings')
  }
}
