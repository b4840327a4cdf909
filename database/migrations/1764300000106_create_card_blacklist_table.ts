import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The blacklist terminals sync: cards that must be refused offline (frozen
 * or revoked) and physical card UIDs (lost, or bound to a card that ended).
 *
 * Every addition and removal takes the next number of one counter
 * (card_counters 'blacklist'), so that a terminal that knows version N asks
 * for what changed after N. Rows are never deleted: a removal sets
 * removed_version, which keeps every past version answerable.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('card_counters', (table) => {
      table.string('name', 32).primary()
      table.bigint('value').notNullable()
    })
    this.defer(async (db) => {
      await db.table('card_counters').insert({ name: 'blacklist', value: 0 })
    })
    this.schema.createTable('card_blacklist', (table) => {
      table.bigIncrements('id')
      table.string('kind', 16).notNullable()
      table
        .integer('card_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('cards')
        .onDelete('RESTRICT')
      table.string('uid', 20).nullable()
      table.string('reason', 16).notNullable()
      table.bigint('added_version').notNullable()
      table.bigint('removed_version').nullable()
      table.timestamp('added_at', { useTz: true }).notNullable()
      table.timestamp('removed_at', { useTz: true }).nullable()
      table.string('added_by', 100).nullable()
      table.string('removed_by', 100).nullable()
      table.index(['added_version'])
      table.index(['removed_version'])
      table.index(['card_id'])
      table.index(['uid'])
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX card_blacklist_card_listed ON card_blacklist (card_id)
        WHERE kind = 'card' AND removed_version IS NULL`
    )
    this.schema.raw(
      `CREATE UNIQUE INDEX card_blacklist_uid_listed ON card_blacklist (uid)
        WHERE kind = 'physical' AND removed_version IS NULL`
    )
  }

  async down() {
    this.schema.raw('DROP INDEX IF EXISTS card_blacklist_card_listed')
    this.schema.raw('DROP INDEX IF EXISTS card_blacklist_uid_listed')
    this.schema.dropTable('card_blacklist')
    this.schema.dropTable('card_counters')
  }
}
