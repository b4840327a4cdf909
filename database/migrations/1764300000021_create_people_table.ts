import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The people registry: everyone who holds a campus identity (students,
 * teachers, staff, alumni, visitors, temporary workers), each in one org unit.
 */
export default class extends BaseSchema {
  protected tableName = 'people'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      // 学工号: the student or staff number printed on the card.
      table.string('person_no', 32).notNullable().unique()
      table.string('name', 64).notNullable()
      table.string('name_pinyin_initials', 64).notNullable()
      table.string('gender', 8).notNullable()
      table.string('identity_type', 16).notNullable()
      table.string('status', 16).notNullable()
      table
        .integer('org_unit_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('org_units')
        .onDelete('RESTRICT')
      table.integer('enrollment_year').nullable()
      table.string('email', 254).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['org_unit_id'])
      table.index(['identity_type', 'status'])
      table.index(['name'])
    })
    // Search matches person numbers and pinyin initials by prefix; on
    // PostgreSQL only the pattern operator class serves LIKE 'zs%'.
    if (this.db.dialect.name === 'postgres') {
      this.schema.raw(
        'CREATE INDEX people_person_no_prefix ON people (person_no varchar_pattern_ops)'
      )
      this.schema.raw(
        'CREATE INDEX people_initials_prefix ON people (name_pinyin_initials varchar_pattern_ops)'
      )
    } else {
      this.schema.alterTable(this.tableName, (table) => table.index(['name_pinyin_initials']))
    }
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
