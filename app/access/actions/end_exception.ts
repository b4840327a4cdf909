import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AccessException from '#access/models/access_exception'

/** Ends a person's exception now; the row stays as a record of what applied. */
export class EndException {
  async handle(
    input: { exception: string },
    actor: AuditActor
  ): Promise<Result<void, 'not_found' | 'already_ended'>> {
    return db.transaction(async (trx) => {
      const exception = await AccessException.query({ client: trx })
        .where('public_id', input.exception.toUpperCase())
        .first()
      if (!exception) return fail('not_found')
      const now = DateTime.utc().set({ millisecond: 0 })
      if (exception.endsAt <= now) return fail('already_ended')
      const before = { endsAt: exception.endsAt.toUTC().toISO() }
      exception.useTransaction(trx)
      exception.endsAt = now
      await exception.save()
      await recordAudit(
        actor,
        {
          action: 'access.exception_ended',
          subjectType: 'access_exception',
          subjectId: exception.publicId,
          before,
          after: { endsAt: now.toISO() },
        },
        trx
      )
      return ok(undefined)
    })
  }
}
