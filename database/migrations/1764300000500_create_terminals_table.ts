import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The terminal registry: POS tills, gates, doors, check-in stations and
 * kiosks that talk to the terminal gateway (docs/terminal-protocol.md).
 *
 * A terminal is created in the console with a one-time enrollment code (only
 * its SHA-256 is kept) and becomes active when it sends that code with a CSR:
 * the appliance CA signs a client certificate whose SHA-256 fingerprint then
 * identifies the terminal on every mutual-TLS request. Revoking clears
 * nothing: the status says revoked and the gateway refuses the certificate.
 *
 * terminal_offline_limits holds the default offline limits per terminal kind;
 * a terminal may override them in its own columns.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('terminals', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('name', 120).notNullable()
      // pos | gate | door | checkin | kiosk
      table.string('kind', 16).notNullable()
      table.string('location', 200).nullable()
      // The shop a POS till belongs to (merchants' shops table).
      table
        .integer('shop_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('shops')
        .onDelete('SET NULL')
      table.string('firmware_version', 64).nullable()
      table.string('model', 120).nullable()
      // pending (waiting for enrollment) | active | revoked
      table.string('status', 16).notNullable()
      table.string('certificate_serial', 40).nullable()
      // SHA-256 of the certificate DER, lower-case hex without colons.
      table.string('certificate_fingerprint', 64).nullable().unique()
      table.timestamp('certificate_expires_at', { useTz: true }).nullable()
      // SHA-256 of the one-time enrollment code, lower-case hex.
      table.string('enrollment_code_hash', 64).nullable().unique()
      table.timestamp('enrollment_expires_at', { useTz: true }).nullable()
      table.timestamp('enrolled_at', { useTz: true }).nullable()
      table.timestamp('revoked_at', { useTz: true }).nullable()
      table.string('revoked_reason', 200).nullable()
      table.timestamp('last_seen_at', { useTz: true }).nullable()
      table.string('last_address', 64).nullable()
      // Terminal clock minus server clock at the last heartbeat, milliseconds.
      table.integer('clock_drift_ms').nullable()
      // Highest terminal sequence number accepted in an offline upload.
      table.bigint('last_uploaded_sequence').notNullable().defaultTo(0)
      // Offline records the terminal holds not yet uploaded, as it reported at its last heartbeat.
      table.integer('pending_offline_records').nullable()
      // Blacklist version the terminal last synced to.
      table.bigint('blacklist_version').nullable()
      table.timestamp('last_synced_at', { useTz: true }).nullable()
      // Offline limit overrides (null: the kind's default).
      table.integer('offline_count_per_day').nullable()
      table.bigint('offline_amount_per_day').nullable()
      table.bigint('offline_single_amount').nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['kind'])
      table.index(['status'])
      table.index(['shop_id'])
    })

    this.schema.createTable('terminal_offline_limits', (table) => {
      table.string('kind', 16).primary()
      table.integer('count_per_day').notNullable()
      table.bigint('amount_per_day').notNullable()
      table.bigint('single_amount').notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
    this.defer(async (db) => {
      const date = new Date()
      const now =
        db.dialect.name === 'postgres' ? date : date.toISOString().slice(0, 19).replace('T', ' ')
      // Payment terminals may take a few small payments offline; the others take none.
      await db.table('terminal_offline_limits').multiInsert([
        {
          kind: 'pos',
          count_per_day: 5,
          amount_per_day: 10_000,
          single_amount: 3_000,
          updated_at: now,
        },
        {
          kind: 'kiosk',
          count_per_day: 3,
          amount_per_day: 5_000,
          single_amount: 2_000,
          updated_at: now,
        },
        { kind: 'gate', count_per_day: 0, amount_per_day: 0, single_amount: 0, updated_at: now },
        { kind: 'door', count_per_day: 0, amount_per_day: 0, single_amount: 0, updated_at: now },
        { kind: 'checkin', count_per_day: 0, amount_per_day: 0, single_amount: 0, updated_at: now },
      ])
    })
  }

  async down() {
    this.schema.dropTable('terminal_offline_limits')
    this.schema.dropTable('terminals')
  }
}
