import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Offline payment records uploaded by terminals (dual-offline: the phone and
 * the terminal both without network). One row per (terminal, terminal
 * sequence number): the row is the record's idempotency key, so the same
 * batch uploaded twice books nothing more. A booked record names its
 * transfer; a refused one keeps its refusal code, and `flag` marks what the
 * school should look at (a forged or replayed code, a terminal whose record
 * does not match the code it claims to have verified).
 *
 * `terminal_id` is the terminal's public id (the terminals table is created
 * later in the migration order). A code id is booked at most once across all
 * terminals: the partial unique index is the last line against a code
 * replayed at two terminals, even after the seen-code store forgot it.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('offline_payment_records', (table) => {
      table.bigIncrements('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('terminal_id', 26).notNullable()
      table.bigint('sequence').notNullable()
      // SHA-256 of the record as uploaded: the same sequence with other content is a conflict.
      table.string('content_hash', 64).notNullable()
      table.string('card_no', 32).notNullable()
      table.string('code_id', 64).nullable()
      table
        .integer('person_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('people')
        .onDelete('RESTRICT')
      table.string('shop_public_id', 26).notNullable()
      table.integer('shop_id').unsigned().nullable()
      table.bigint('amount').notNullable()
      // What the wallets paid and what the advance fund paid (the holder's new arrears).
      table.bigint('covered').notNullable().defaultTo(0)
      table.bigint('advanced').notNullable().defaultTo(0)
      table.timestamp('recorded_at', { useTz: true }).notNullable()
      table.timestamp('uploaded_at', { useTz: true }).notNullable()
      table.string('status', 12).notNullable()
      table.string('refusal', 40).nullable()
      table.string('flag', 24).nullable()
      table
        .bigint('transfer_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('ledger_transfers')
        .onDelete('RESTRICT')
      table.unique(['terminal_id', 'sequence'])
      table.index(['terminal_id', 'recorded_at'])
      table.index(['code_id'])
      table.index(['flag'])
      table.check(`?? in ('booked', 'refused')`, ['status'], 'offline_payment_records_status')
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX offline_payment_records_code_booked
       ON offline_payment_records (code_id) WHERE status = 'booked'`
    )
  }

  async down() {
    this.schema.dropTable('offline_payment_records')
  }
}
