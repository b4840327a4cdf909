import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The part of the organization tree an import may touch (JSON of an
 * OrgScope): the importing account's scope when it was uploaded, applied
 * again by the dry run and by the job. Null means the whole school.
 */
export default class extends BaseSchema {
  protected tableName = 'imports'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.text('scope').nullable()
      // The hourly prune looks for uploads that were never confirmed.
      table.index(['status', 'updated_at'])
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropIndex(['status', 'updated_at'])
      table.dropColumn('scope')
    })
  }
}
