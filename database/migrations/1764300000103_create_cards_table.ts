import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Electronic campus cards. A card moves pending_activation → active ⇄
 * frozen and ends revoked or expired; an ended card is never reused (a
 * reissue or an upgrade makes a new card and links the two).
 *
 * A person holds at most one live card (pending, active or frozen) of each
 * type. A partial unique index enforces it in the database itself, on
 * SQLite and PostgreSQL alike, so that two issuances racing for the same
 * person cannot both succeed.
 */
export default class extends BaseSchema {
  protected tableName = 'cards'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      // 12 digits with a Luhn check digit; random, so not guessable in sequence.
      table.string('card_no', 20).notNullable().unique()
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('RESTRICT')
      table
        .integer('card_type_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('card_types')
        .onDelete('RESTRICT')
      table.string('state', 20).notNullable()
      table.timestamp('valid_from', { useTz: true }).notNullable()
      table.timestamp('valid_until', { useTz: true }).nullable()
      table.timestamp('issued_at', { useTz: true }).notNullable()
      table.timestamp('activated_at', { useTz: true }).nullable()
      table.timestamp('frozen_at', { useTz: true }).nullable()
      table.string('frozen_by', 16).nullable()
      table.string('frozen_reason', 16).nullable()
      table.string('frozen_note', 500).nullable()
      table.timestamp('revoked_at', { useTz: true }).nullable()
      table.string('revoked_reason', 16).nullable()
      table.string('revoked_note', 500).nullable()
      table.timestamp('expired_at', { useTz: true }).nullable()
      table
        .integer('replaced_by_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('cards')
        .onDelete('RESTRICT')
      table
        .integer('replaces_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('cards')
        .onDelete('RESTRICT')
      table
        .integer('issuance_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('card_issuances')
        .onDelete('RESTRICT')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['person_id'])
      table.index(['card_type_id', 'state'])
      table.index(['state', 'valid_until'])
      table.index(['issuance_id'])
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX cards_one_live_per_type ON cards (person_id, card_type_id)
        WHERE state IN ('pending_activation', 'active', 'frozen')`
    )
  }

  async down() {
    this.schema.raw('DROP INDEX IF EXISTS cards_one_live_per_type')
    this.schema.dropTable(this.tableName)
  }
}
