import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The organization tree: the school, its campuses, colleges, majors, grades,
 * classes and administrative departments. `path` holds the ids from the root
 * down to the unit itself ("/1/4/17/"), so that a whole subtree is one
 * prefix query and a move rewrites the paths of that subtree only.
 */
export default class extends BaseSchema {
  protected tableName = 'org_units'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('parent_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable(this.tableName)
        .onDelete('RESTRICT')
      table.string('kind', 16).notNullable()
      table.string('code', 32).notNullable().unique()
      table.string('name', 120).notNullable()
      table.integer('sort_order').notNullable().defaultTo(0)
      table.timestamp('disabled_at', { useTz: true }).nullable()
      table.string('path', 255).notNullable()
      table.integer('depth').notNullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['parent_id', 'sort_order'])
      table.index(['kind'])
    })
    // PostgreSQL uses an index for `path LIKE '/1/4/%'` only with the pattern
    // operator class (unless the database collation is C); SQLite needs none.
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw('CREATE INDEX org_units_path_prefix ON org_units (path varchar_pattern_ops)')
    } else {
      this.schema.alterTable(this.tableName, (table) => table.index(['path']))
    }
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
