import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AccessGroup from '#access/models/access_group'
import AccessHoliday from '#access/models/access_holiday'
import type { HolidayEffect } from '#access/services/access_decision'
import { holidayWindows, isCalendarDate } from '#access/services/access_rules'

export interface SaveHolidayInput {
  /** The holiday to change; absent to create one. */
  holiday?: string | null
  name: string
  /** School-time dates, YYYY-MM-DD, both included. */
  startsOn: string
  endsOn: string
  effect: HolidayEffect
  /** The hours that replace the windows (effect windows). */
  windows?: unknown
  /** The group's public id; null for every group. */
  group?: string | null
}

export type SaveHolidayError = 'not_found' | 'dates_invalid' | 'group_unknown' | 'windows_invalid'

function view(holiday: AccessHoliday, group: string | null) {
  return {
    name: holiday.name,
    startsOn: holiday.startsOn,
    endsOn: holiday.endsOn,
    effect: holiday.effect,
    windows: holiday.windows,
    group,
  }
}

/** Creates or changes a holiday: dates whose windows are closed, open all day or replaced. */
export class SaveHoliday {
  async handle(
    input: SaveHolidayInput,
    actor: AuditActor
  ): Promise<Result<AccessHoliday, SaveHolidayError>> {
    if (!isCalendarDate(input.startsOn) || !isCalendarDate(input.endsOn)) {
      return fail('dates_invalid')
    }
    if (input.endsOn < input.startsOn) return fail('dates_invalid')
    const windows = input.effect === 'windows' ? holidayWindows(input.windows ?? []) : null
    if (windows && (!windows.ok || windows.value.length === 0)) return fail('windows_invalid')
    return db.transaction(async (trx) => {
      const existing = input.holiday
        ? await AccessHoliday.query({ client: trx })
            .where('public_id', input.holiday.toUpperCase())
            .preload('group')
            .first()
        : null
      if (input.holiday && !existing) return fail('not_found')
      let group: AccessGroup | null = null
      if (input.group) {
        group = await AccessGroup.query({ client: trx })
          .where('public_id', input.group.toUpperCase())
          .first()
        if (!group) return fail('group_unknown')
      }
      const before = existing ? view(existing, existing.group?.publicId ?? null) : null
      const holiday = existing ?? new AccessHoliday()
      holiday.useTransaction(trx)
      holiday.merge({
        name: input.name.trim(),
        startsOn: input.startsOn,
        endsOn: input.endsOn,
        effect: input.effect,
        windows: windows?.ok ? windows.value : [],
        groupId: group?.id ?? null,
      })
      await holiday.save()
      await recordAudit(
        actor,
        {
          action: existing ? 'access.holiday_updated' : 'access.holiday_created',
          subjectType: 'access_holiday',
          subjectId: holiday.publicId,
          before,
          after: view(holiday, group?.publicId ?? null),
        },
        trx
      )
      return ok(holiday)
    })
  }
}
