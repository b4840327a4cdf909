import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Transfers: one immutable money movement each, made of postings that sum to
 * zero. Every transfer carries the idempotency key of the request that booked
 * it and a hash of that request, so that a retry books nothing and a key
 * reused for another request is recognised.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('ledger_transfers', (table) => {
      table.bigIncrements('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('kind', 32).notNullable()
      table.string('idempotency_key', 128).notNullable().unique()
      table.string('request_hash', 64).notNullable()
      // The sum of the credits (equal to the sum of the debits).
      table.bigint('amount').notNullable()
      // A reversal names the transfer it undoes; unique, so that a transfer is
      // reversed at most once even if two reversals race.
      table
        .bigint('reverses_transfer_id')
        .unsigned()
        .nullable()
        .unique()
        .references('id')
        .inTable('ledger_transfers')
        .onDelete('RESTRICT')
      // Any other follow-up (a partial refund) names its original here.
      table
        .bigint('refers_to_transfer_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('ledger_transfers')
        .onDelete('RESTRICT')
        .index()
      table.string('memo', 255).nullable()
      table.text('metadata').nullable()
      table.string('actor_type', 16).notNullable()
      table.string('actor_id', 64).nullable()
      table.string('actor_name', 100).nullable()
      table.timestamp('booked_at', { useTz: true }).notNullable().index()
      table.check('?? > 0', ['amount'], 'ledger_transfers_amount_positive')
    })

    // Transfers are append-only: corrections are reversing transfers. The
    // function serves the postings table too.
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw(`
        CREATE OR REPLACE FUNCTION quad_ledger_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '% is append-only: book a reversal instead', TG_TABLE_NAME; END;
        $$ LANGUAGE plpgsql`)
      this.schema.raw(`
        CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
        FOR EACH ROW EXECUTE FUNCTION quad_ledger_append_only()`)
    } else {
      this.schema.raw(`
        CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers
        BEGIN SELECT RAISE(ABORT, 'ledger_transfers is append-only: book a reversal instead'); END`)
      this.schema.raw(`
        CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers
        BEGIN SELECT RAISE(ABORT, 'ledger_transfers is append-only: book a reversal instead'); END`)
    }
  }

  async down() {
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw('DROP TRIGGER IF EXISTS ledger_transfers_append_only ON ledger_transfers')
    }
    this.schema.dropTable('ledger_transfers')
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw('DROP FUNCTION IF EXISTS quad_ledger_append_only()')
    }
  }
}
