import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * People may sign in to the portal with their e-mail address when no one
 * else shares it: the lookup compares lower-cased addresses, so the index is
 * on the same expression (both SQLite and PostgreSQL index expressions).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.raw('CREATE INDEX people_email_lower ON people (lower(email))')
  }

  async down() {
    this.schema.raw('DROP INDEX people_email_lower')
  }
}
