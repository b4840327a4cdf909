import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Device keys on the blacklist: when a holder activates their card on a new
 * phone, the old phone's key is listed until every credential it could hold
 * has expired, so that neither the server nor an offline terminal accepts
 * codes from it.
 */
export default class extends BaseSchema {
  protected tableName = 'card_blacklist'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.string('device_key', 64).nullable()
      table.index(['device_key'])
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropIndex(['device_key'])
      table.dropColumn('device_key')
    })
  }
}
