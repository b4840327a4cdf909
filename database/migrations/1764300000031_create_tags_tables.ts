import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Free tags on people ("住校", "校队", "少数民族"): one row per distinct name in
 * `tags`, one row per person and tag in `person_tags`. Audiences select
 * people by tag through `person_tags.tag_id`.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('tags', (table) => {
      table.increments('id')
      table.string('name', 32).notNullable().unique()
      table.timestamp('created_at', { useTz: true }).notNullable()
    })
    this.schema.createTable('person_tags', (table) => {
      table
        .integer('person_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('people')
        .onDelete('CASCADE')
      table
        .integer('tag_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('tags')
        .onDelete('CASCADE')
      table.primary(['person_id', 'tag_id'])
      table.index(['tag_id', 'person_id'])
    })
  }

  async down() {
    this.schema.dropTable('person_tags')
    this.schema.dropTable('tags')
  }
}
