import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The audit log: append-only rows, each carrying the hash of the previous
 * one. audit_heads holds the chain's tip so that concurrent writers take turns.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('audit_entries', (table) => {
      table.bigIncrements('id')
      table.bigint('seq').notNullable().unique()
      table.timestamp('occurred_at', { useTz: true }).notNullable().index()
      table.string('actor_type', 16).notNullable()
      table.string('actor_id', 64).nullable().index()
      table.string('actor_name', 100).nullable()
      table.string('ip', 45).nullable()
      table.string('user_agent', 255).nullable()
      table.string('action', 64).notNullable().index()
      table.string('subject_type', 64).nullable()
      table.string('subject_id', 64).nullable()
      table.string('outcome', 16).notNullable()
      table.text('before').nullable()
      table.text('after').nullable()
      table.text('meta').nullable()
      table.string('prev_hash', 64).notNullable()
      table.string('hash', 64).notNullable()
      table.index(['subject_type', 'subject_id'])
    })
    this.schema.createTable('audit_heads', (table) => {
      table.integer('id').primary()
      table.bigint('seq').notNullable()
      table.string('hash', 64).notNullable()
    })
    this.defer(async (db) => {
      await db.table('audit_heads').insert({ id: 1, seq: 0, hash: '0'.repeat(64) })
    })
    // Refuse UPDATE and DELETE in the database itself. Someone with database
    // superuser rights can still drop these triggers; the hash chain is what
    // makes that tamper visible (node ace audit:verify).
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw(`
        CREATE FUNCTION quad_audit_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END;
        $$ LANGUAGE plpgsql`)
      this.schema.raw(`
        CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION quad_audit_append_only()`)
    } else {
      this.schema.raw(`
        CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`)
      this.schema.raw(`
        CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`)
    }
  }

  async down() {
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw('DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries')
      this.schema.raw('DROP FUNCTION IF EXISTS quad_audit_append_only()')
    }
    this.schema.dropTable('audit_heads')
    this.schema.dropTable('audit_entries')
  }
}
