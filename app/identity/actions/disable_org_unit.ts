import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type OrgUnit from '#identity/models/org_unit'
import { findOrgUnit, type OrgUnitRef } from '#identity/services/org_units'
import { recordOrgUnitChange } from '#identity/services/person_history'

export type DisableOrgUnitError = 'not_found' | 'already_disabled'

/**
 * Disables a unit and every enabled unit below it: nobody new can be placed
 * there, while the people already in it stay (a graduated class keeps its
 * alumni). Kept in the unit's history with the number of units disabled.
 */
export class DisableOrgUnit {
  async handle(
    ref: OrgUnitRef,
    actor: AuditActor,
    reason: string | null = null
  ): Promise<Result<{ unit: OrgUnit; disabledUnits: number }, DisableOrgUnitError>> {
    return db.transaction(async (trx) => {
      const unit = await findOrgUnit(ref, trx)
      if (!unit) return fail('not_found')
      if (unit.disabledAt) return fail('already_disabled')
      const now = DateTime.utc()
      const disabledUnits = Number(
        await trx
          .from('org_units')
          .where('path', 'like', `${unit.path}%`)
          .whereNull('disabled_at')
          .update({
            disabled_at: now.toFormat(trx.dialect.dateTimeFormat),
            updated_at: now.toFormat(trx.dialect.dateTimeFormat),
          })
      )
      await unit.refresh()
      const changes = {
        disabled: [false, true] as [unknown, unknown],
        units: [null, disabledUnits] as [unknown, unknown],
      }
      await recordOrgUnitChange(trx, unit, 'disabled', changes, actor, reason)
      await recordAudit(
        actor,
        {
          action: 'org.unit_disabled',
          subjectType: 'org_unit',
          subjectId: unit.publicId,
          before: { disabled: false },
          after: { disabled: true },
          meta: { units: disabledUnits, reason },
        },
        trx
      )
      return ok({ unit, disabledUnits })
    })
  }
}
