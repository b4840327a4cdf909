import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Ledger accounts: person wallets, merchants, clearing accounts, the advance
 * fund and the other system accounts. `balance` is a cache of the sum of the
 * account's postings, kept in the same database transaction as the postings
 * and recomputed by `node ace ledger:verify`.
 *
 * Sign convention: a posting's amount is positive for a credit and negative
 * for a debit, and `balance` is the plain sum. `normal_side` only says how to
 * show it: a wallet (credit side, money the school owes the holder) shows the
 * balance as it is, a clearing account (debit side, money the school holds)
 * shows its negation.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('ledger_accounts', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('kind', 24).notNullable().index()
      table.string('normal_side', 6).notNullable()
      table.string('currency', 3).notNullable().defaultTo('CNY')
      // The owner: a person for wallets and arrears, a merchant for merchant
      // accounts, a fixed code for system accounts. One account per owner and kind.
      table
        .integer('person_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('people')
        .onDelete('RESTRICT')
      // The merchants table arrives with the merchant module, which adds the foreign key.
      table.integer('merchant_id').unsigned().nullable()
      table.string('code', 48).nullable().unique()
      table.bigint('balance').notNullable().defaultTo(0)
      table.boolean('allow_negative').notNullable().defaultTo(false)
      table.boolean('frozen').notNullable().defaultTo(false)
      // Bumped by every transfer: a stale write is detected, never applied.
      table.bigint('version').notNullable().defaultTo(0)
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.unique(['kind', 'person_id'])
      table.unique(['kind', 'merchant_id'])
      table.check(`?? in ('debit', 'credit')`, ['normal_side'], 'ledger_accounts_side')
      // The last line against an overdraft: even a bug in the write path cannot
      // commit an account that may not go negative below zero.
      table.check(
        `?? OR (?? = 'credit' AND ?? >= 0) OR (?? = 'debit' AND ?? <= 0)`,
        ['allow_negative', 'normal_side', 'balance', 'normal_side', 'balance'],
        'ledger_accounts_not_overdrawn'
      )
    })

    // Accounts are never deleted and never change owner, kind, side or
    // currency: postings would otherwise move to another meaning.
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw(`
        CREATE OR REPLACE FUNCTION quad_ledger_account_guard() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'ledger accounts are never deleted';
          END IF;
          IF NEW.public_id IS DISTINCT FROM OLD.public_id
            OR NEW.kind IS DISTINCT FROM OLD.kind
            OR NEW.normal_side IS DISTINCT FROM OLD.normal_side
            OR NEW.currency IS DISTINCT FROM OLD.currency
            OR NEW.person_id IS DISTINCT FROM OLD.person_id
            OR NEW.merchant_id IS DISTINCT FROM OLD.merchant_id
            OR NEW.code IS DISTINCT FROM OLD.code THEN
            RAISE EXCEPTION 'a ledger account never changes owner, kind, side or currency';
          END IF;
          RETURN NEW;
        END;
        $$ LANGUAGE plpgsql`)
      this.schema.raw(`
        CREATE TRIGGER ledger_accounts_guard BEFORE UPDATE OR DELETE ON ledger_accounts
        FOR EACH ROW EXECUTE FUNCTION quad_ledger_account_guard()`)
    } else {
      this.schema.raw(`
        CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
        BEGIN SELECT RAISE(ABORT, 'ledger accounts are never deleted'); END`)
      this.schema.raw(`
        CREATE TRIGGER ledger_accounts_identity BEFORE UPDATE ON ledger_accounts
        WHEN NEW.public_id IS NOT OLD.public_id
          OR NEW.kind IS NOT OLD.kind
          OR NEW.normal_side IS NOT OLD.normal_side
          OR NEW.currency IS NOT OLD.currency
          OR NEW.person_id IS NOT OLD.person_id
          OR NEW.merchant_id IS NOT OLD.merchant_id
          OR NEW.code IS NOT OLD.code
        BEGIN SELECT RAISE(ABORT, 'a ledger account never changes owner, kind, side or currency'); END`)
    }
  }

  async down() {
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw('DROP TRIGGER IF EXISTS ledger_accounts_guard ON ledger_accounts')
      this.schema.raw('DROP FUNCTION IF EXISTS quad_ledger_account_guard()')
    }
    this.schema.dropTable('ledger_accounts')
  }
}
