import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import OrgUnit from '#identity/models/org_unit'
import { findOrgUnit, type OrgUnitRef } from '#identity/services/org_units'
import { auditSides, recordOrgUnitChange } from '#identity/services/person_history'
import { checkOrgUnitCode, checkOrgUnitName } from '#identity/services/org_rules'
import type { FieldChanges } from '#identity/models/record_change'

export interface RenameInput {
  unit: OrgUnitRef
  name: string
  /** A new code; undefined keeps the code. */
  code?: string
}

export type RenameOrgUnitError =
  'not_found' | 'code_format' | 'code_taken' | 'name_length' | 'unchanged'

/**
 * Gives a unit a new name (and optionally a new code), kept in its history.
 * Pass `trx` to join a larger transaction (an import of the org tree).
 */
export class RenameOrgUnit {
  async handle(
    input: RenameInput,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<OrgUnit, RenameOrgUnitError>> {
    return trx
      ? this.rename(trx, input, actor)
      : db.transaction((own) => this.rename(own, input, actor))
  }

  private async rename(
    trx: TransactionClientContract,
    input: RenameInput,
    actor: AuditActor
  ): Promise<Result<OrgUnit, RenameOrgUnitError>> {
    const found = await findOrgUnit(input.unit, trx)
    if (!found) return fail('not_found')
    const name = checkOrgUnitName(input.name)
    if (!name.ok) return fail(name.error)
    let code = found.code
    if (input.code !== undefined) {
      const checked = checkOrgUnitCode(input.code)
      if (!checked.ok) return fail(checked.error)
      code = checked.value
      const holder = await OrgUnit.query({ client: trx }).where('code', code).first()
      if (holder && holder.id !== found.id) return fail('code_taken')
    }
    const changes: FieldChanges = {}
    if (name.value !== found.name) changes.name = [found.name, name.value]
    if (code !== found.code) changes.code = [found.code, code]
    if (Object.keys(changes).length === 0) return fail('unchanged')

    found.useTransaction(trx)
    found.merge({ name: name.value, code })
    await found.save()
    await recordOrgUnitChange(trx, found, 'renamed', changes, actor)
    await recordAudit(
      actor,
      {
        action: 'org.unit_renamed',
        subjectType: 'org_unit',
        subjectId: found.publicId,
        ...auditSides(changes),
      },
      trx
    )
    return ok(found)
  }
}
