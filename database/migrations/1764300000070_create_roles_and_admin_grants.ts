import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Roles (built-in and the school's own, made from the permission catalogue)
 * and grants: an account holds a role for the whole school or for the
 * subtree under one org unit.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('roles', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('key', 32).notNullable().unique()
      table.string('name_zh', 64).notNullable()
      table.string('name_en', 64).notNullable()
      table.string('description', 500).nullable()
      table.boolean('built_in').notNullable().defaultTo(false)
      // Space-separated permissions of a custom role; null for built-in
      // roles, whose permissions are defined in the code.
      table.text('permissions').nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })

    this.schema.createTable('admin_grants', (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table
        .integer('user_id')
        .unsigned()
        .notNullable()
        .references('id')
        .inTable('users')
        .onDelete('CASCADE')
      table.integer('role_id').unsigned().notNullable().references('id').inTable('roles')
      // Null: the whole school. Otherwise the unit at the top of the subtree.
      table.integer('org_unit_id').unsigned().nullable().references('id').inTable('org_units')
      table.string('granted_by', 26).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.index(['user_id'])
      table.index(['role_id'])
      table.index(['org_unit_id'])
    })
  }

  async down() {
    this.schema.dropTable('admin_grants')
    this.schema.dropTable('roles')
  }
}
