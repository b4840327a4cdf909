import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AccessHoliday from '#access/models/access_holiday'

/** Removes a holiday: its dates follow the weekly windows again. */
export class DeleteHoliday {
  async handle(input: { holiday: string }, actor: AuditActor): Promise<Result<void, 'not_found'>> {
    return db.transaction(async (trx) => {
      const holiday = await AccessHoliday.query({ client: trx })
        .where('public_id', input.holiday.toUpperCase())
        .first()
      if (!holiday) return fail('not_found')
      const before = {
        name: holiday.name,
        startsOn: holiday.startsOn,
        endsOn: holiday.endsOn,
        effect: holiday.effect,
        windows: holiday.windows,
      }
      await holiday.useTransaction(trx).delete()
      await recordAudit(
        actor,
        {
          action: 'access.holiday_deleted',
          subjectType: 'access_holiday',
          subjectId: holiday.publicId,
          before,
        },
        trx
      )
      return ok(undefined)
    })
  }
}
