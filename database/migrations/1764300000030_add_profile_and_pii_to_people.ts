import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Contact and identity data of people. Phone and ID document numbers are
 * stored only encrypted (AES-256-GCM, app/identity/services/pii.ts), next to a
 * blind index (HMAC-SHA256) for exact lookup and the masked form the console
 * shows, so that lists never need to decrypt.
 */
export default class extends BaseSchema {
  protected tableName = 'people'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.text('phone_ciphertext').nullable()
      table.string('phone_index', 64).nullable()
      table.string('phone_masked', 32).nullable()
      table.string('id_doc_type', 16).nullable()
      table.text('id_doc_ciphertext').nullable()
      table.string('id_doc_index', 64).nullable()
      table.string('id_doc_masked', 32).nullable()
      table.date('expected_graduation_date').nullable()
      // Relative to the storage root's uploads/ folder, never under public/.
      table.string('photo_path', 255).nullable()
      table.index(['phone_index'])
      table.index(['id_doc_index'])
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropIndex(['phone_index'])
      table.dropIndex(['id_doc_index'])
      table.dropColumns(
        'phone_ciphertext',
        'phone_index',
        'phone_masked',
        'id_doc_type',
        'id_doc_ciphertext',
        'id_doc_index',
        'id_doc_masked',
        'expected_graduation_date',
        'photo_path'
      )
    })
  }
}
