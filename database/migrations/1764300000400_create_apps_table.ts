import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * The app center's registry: every campus app the portal's service hall can
 * show, and, for apps that sign people in through Quad, the settings of their
 * OpenID Connect client or CAS service. A client secret is kept only as a
 * SHA-256 digest: it is 256 random bits, so the digest cannot be reversed.
 * Lists (redirect URIs, scopes, grant types) are JSON text, validated before
 * every write.
 */
export default class extends BaseSchema {
  protected tableName = 'apps'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('public_id', 26).notNullable().unique()
      table.string('name_zh', 80).notNullable()
      table.string('name_en', 120).nullable()
      table.string('description', 500).nullable()
      // Relative to the storage root's uploads/ folder.
      table.string('icon_path', 120).nullable()
      table.string('category', 32).notNullable()
      // oidc, cas, link or builtin.
      table.string('kind', 16).notNullable()
      table.string('launch_url', 2048).nullable()
      table.text('redirect_uris').notNullable()
      table.text('post_logout_redirect_uris').notNullable()
      // CAS: the service URL or pattern, and how it matches (exact, prefix, regex).
      table.string('cas_service', 2048).nullable()
      table.string('cas_service_match', 16).nullable()
      table
        .integer('audience_id')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('audiences')
        .onDelete('RESTRICT')
      table.boolean('partner_zone').notNullable().defaultTo(false)
      table.integer('sort_order').notNullable().defaultTo(0)
      table.boolean('enabled').notNullable().defaultTo(true)
      // School-owned apps sign people in without asking for consent.
      table.boolean('first_party').notNullable().defaultTo(false)
      table.string('oidc_client_id', 64).nullable().unique()
      table.string('client_secret_hash', 64).nullable()
      table.timestamp('client_secret_rotated_at', { useTz: true }).nullable()
      table.string('token_endpoint_auth_method', 32).nullable()
      // Public clients (mobile, single-page, kiosk) hold no secret and must use PKCE.
      table.boolean('public_client').notNullable().defaultTo(false)
      table.text('allowed_scopes').notNullable()
      table.text('grant_types').notNullable()
      table.string('id_token_alg', 16).notNullable().defaultTo('RS256')
      table
        .integer('created_by')
        .unsigned()
        .nullable()
        .references('id')
        .inTable('users')
        .onDelete('SET NULL')
      table.timestamp('created_at', { useTz: true }).notNullable()
      table.timestamp('updated_at', { useTz: true }).notNullable()
      table.index(['enabled', 'category', 'sort_order'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
