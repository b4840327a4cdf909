import { BaseSchema } from '@adonisjs/lucid/schema'

/** Console accounts: who may sign in to administer Quad, and in which role. */
export default class extends BaseSchema {
  protected tableName = 'users'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('username', 64).notNullable().unique()
      table.string('display_name', 100).notNullable()
      table.string('email', 254).nullable()
      table.string('password', 255).notNullable()
      table.string('role', 32).notNullable()
      table.string('locale', 8).nullable()
      table.text('totp_secret').nullable()
      table.timestamp('totp_confirmed_at', { useTz: true }).nullable()
      table.bigint('totp_last_step').nullable()
      table.integer('failed_login_count').notNullable().defaultTo(0)
      table.timestamp('locked_until', { useTz: true }).nullable()
      table.timestamp('last_login_at', { useTz: true }).nullable()
      table.string('last_login_ip', 45).nullable()
      table.timestamp('disabled_at', { useTz: true }).nullable()
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
