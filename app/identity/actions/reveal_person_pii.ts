import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import { decryptPii } from '#identity/services/pii'

export const REVEALABLE_FIELDS = ['phone', 'idDocNumber'] as const

export type RevealableField = (typeof REVEALABLE_FIELDS)[number]

export type RevealError = 'not_found' | 'no_value'

/**
 * Decrypts one phone or ID number for someone allowed to see it, and writes
 * an audit entry naming the field (never the value). The caller shows the
 * value once and keeps it nowhere.
 */
export class RevealPersonPii {
  async handle(
    publicId: string,
    field: RevealableField,
    actor: AuditActor
  ): Promise<Result<{ person: Person; value: string }, RevealError>> {
    return db.transaction(async (trx) => {
      const person = await Person.query({ client: trx })
        .where('public_id', publicId.toUpperCase())
        .first()
      if (!person) return fail('not_found')
      const ciphertext = field === 'phone' ? person.phoneCiphertext : person.idDocCiphertext
      if (!ciphertext) return fail('no_value')
      const value = decryptPii(field === 'phone' ? 'phone' : 'id_doc_number', ciphertext)
      await recordAudit(
        actor,
        {
          action: 'people.pii_revealed',
          subjectType: 'person',
          subjectId: person.publicId,
          meta: { field },
        },
        trx
      )
      return ok({ person, value })
    })
  }
}
