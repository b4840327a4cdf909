import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person, { PERSON_STATUSES, type PersonStatus } from '#identity/models/person'
import { canChangeStatus, MAX_REASON_LENGTH } from '#identity/services/person_status'
import { recordPersonChange } from '#identity/services/person_history'

export interface StatusChange {
  publicId: string
  status: PersonStatus
  reason: string
}

export type ChangePersonStatusError =
  | 'not_found'
  | 'invalid_status'
  | 'same_status'
  | 'status_transition'
  | 'reason_required'
  | 'reason_length'

/**
 * Moves a person to another status (suspended, graduated, left, back to
 * active) along the allowed transitions, with a required reason that the
 * person's history and the audit log keep.
 */
export class ChangePersonStatus {
  async handle(
    change: StatusChange,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<Person, ChangePersonStatusError>> {
    return trx
      ? this.apply(trx, change, actor)
      : db.transaction((own) => this.apply(own, change, actor))
  }

  private async apply(
    trx: TransactionClientContract,
    change: StatusChange,
    actor: AuditActor
  ): Promise<Result<Person, ChangePersonStatusError>> {
    const reason = change.reason?.trim() ?? ''
    if (!PERSON_STATUSES.includes(change.status)) return fail('invalid_status')
    if (!reason) return fail('reason_required')
    if (reason.length > MAX_REASON_LENGTH) return fail('reason_length')
    const person = await Person.query({ client: trx })
      .where('public_id', change.publicId.toUpperCase())
      .forUpdate()
      .first()
    if (!person) return fail('not_found')
    const from = person.status
    if (from === change.status) return fail('same_status')
    if (!canChangeStatus(from, change.status)) return fail('status_transition')

    person.useTransaction(trx)
    person.status = change.status
    await person.save()
    await recordPersonChange(
      trx,
      person,
      'status_changed',
      { status: [from, change.status] },
      actor,
      reason
    )
    await recordAudit(
      actor,
      {
        action: 'people.status_changed',
        subjectType: 'person',
        subjectId: person.publicId,
        before: { status: from },
        after: { status: change.status },
        meta: { reason },
      },
      trx
    )
    return ok(person)
  }
}
