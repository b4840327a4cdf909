import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Spreadsheet imports: one row per uploaded file, from its dry run to the
 * end of the job that applies it. The job updates `done_rows` as it goes, so
 * that the console can show a progress bar. The uploaded file itself lies in
 * the storage root (uploads/imports/) until the import ends.
 */
export default class extends BaseSchema {
  protected tableName = 'imports'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('kind', 32).notNullable()
      table.string('status', 16).notNullable()
      table.string('file_name', 255).notNullable()
      table.string('format', 8).notNullable()
      table.string('stored_path', 255).nullable()
      table.integer('total_rows').notNullable().defaultTo(0)
      table.integer('done_rows').notNullable().defaultTo(0)
      table.integer('created_count').notNullable().defaultTo(0)
      table.integer('updated_count').notNullable().defaultTo(0)
      table.integer('unchanged_count').notNullable().defaultTo(0)
      table.text('report').nullable()
      // The columns the user chose for headers Quad did not recognise (JSON).
      table.text('mapping').nullable()
      table.text('actor').notNullable()
      table.string('locale', 16).notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.timestamp('finished_at', { useTz: true }).nullable()
      table.index(['kind', 'created_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
