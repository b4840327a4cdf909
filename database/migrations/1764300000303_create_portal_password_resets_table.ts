import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Password reset by e-mail. A reset token is good once, for 30 minutes, and
 * only its SHA-256 digest is stored. The outbox holds messages until a mail
 * transport sends them; each body is encrypted with the app key, because it
 * carries a reset link, and is blanked once sent or no longer useful.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('portal_password_resets', (table) => {
      table.increments('id')
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table.string('token_hash', 64).notNullable().unique()
      table.string('requested_ip', 45).nullable()
      table.timestamp('expires_at', { useTz: true }).notNullable().index()
      table.timestamp('used_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['person_id'])
    })

    this.schema.createTable('mail_outbox', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      // What produced the message, e.g. portal.password_reset.
      table.string('kind', 64).notNullable()
      table.string('to_address', 254).notNullable()
      table.string('subject', 200).notNullable()
      table.text('body_ciphertext').nullable()
      // pending, sent, discarded.
      table.string('status', 16).notNullable()
      table.integer('attempts').notNullable().defaultTo(0)
      table.text('last_error').nullable()
      // After this time the body is useless (its link has expired) and is blanked.
      table.timestamp('discard_after', { useTz: true }).notNullable()
      table.timestamp('sent_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['status', 'discard_after'])
    })
  }

  async down() {
    this.schema.dropTable('mail_outbox')
    this.schema.dropTable('portal_password_resets')
  }
}
