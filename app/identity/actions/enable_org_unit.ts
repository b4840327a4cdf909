import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type OrgUnit from '#identity/models/org_unit'
import { findOrgUnit, type OrgUnitRef } from '#identity/services/org_units'
import { recordOrgUnitChange } from '#identity/services/person_history'

export type EnableOrgUnitError = 'not_found' | 'not_disabled' | 'parent_disabled'

/**
 * Enables a disabled unit again. Only the unit itself: units below it that
 * were disabled with it are enabled one by one, and a unit under a disabled
 * parent stays disabled.
 */
export class EnableOrgUnit {
  async handle(ref: OrgUnitRef, actor: AuditActor): Promise<Result<OrgUnit, EnableOrgUnitError>> {
    return db.transaction(async (trx) => {
      const unit = await findOrgUnit(ref, trx)
      if (!unit) return fail('not_found')
      if (!unit.disabledAt) return fail('not_disabled')
      const parent = unit.parentId ? await findOrgUnit({ id: unit.parentId }, trx) : null
      if (parent?.disabledAt) return fail('parent_disabled')
      unit.useTransaction(trx)
      unit.disabledAt = null
      await unit.save()
      await recordOrgUnitChange(trx, unit, 'enabled', { disabled: [true, false] }, actor)
      await recordAudit(
        actor,
        {
          action: 'org.unit_enabled',
          subjectType: 'org_unit',
          subjectId: unit.publicId,
          before: { disabled: true },
          after: { disabled: false },
        },
        trx
      )
      return ok(unit)
    })
  }
}
