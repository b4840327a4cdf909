import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import OrgUnit, { ORG_UNIT_KINDS, type OrgUnitKind } from '#identity/models/org_unit'
import { insertOrgUnit } from '#identity/services/org_tree'
import { findOrgUnit, type OrgUnitRef } from '#identity/services/org_units'
import { diffSnapshots, recordOrgUnitChange } from '#identity/services/person_history'
import { checkOrgUnitCode, checkOrgUnitName, orgUnitSnapshot } from '#identity/services/org_rules'

export interface NewOrgUnitInput {
  /** The unit above; null creates a root (the school). */
  parent: OrgUnitRef | null
  kind: OrgUnitKind
  code: string
  name: string
  sortOrder?: number
}

export type CreateOrgUnitError =
  | 'parent_not_found'
  | 'parent_disabled'
  | 'invalid_kind'
  | 'code_format'
  | 'code_taken'
  | 'name_length'
  | 'too_deep'

/** Adds a unit to the organization tree, audited and in its history. */
export class CreateOrgUnit {
  async handle(
    input: NewOrgUnitInput,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<OrgUnit, CreateOrgUnitError>> {
    return trx
      ? this.create(trx, input, actor)
      : db.transaction((own) => this.create(own, input, actor))
  }

  private async create(
    trx: TransactionClientContract,
    input: NewOrgUnitInput,
    actor: AuditActor
  ): Promise<Result<OrgUnit, CreateOrgUnitError>> {
    if (!ORG_UNIT_KINDS.includes(input.kind)) return fail('invalid_kind')
    const code = checkOrgUnitCode(input.code)
    if (!code.ok) return fail(code.error)
    const name = checkOrgUnitName(input.name)
    if (!name.ok) return fail(name.error)
    let parent: OrgUnit | null = null
    if (input.parent) {
      parent = await findOrgUnit(input.parent, trx)
      if (!parent) return fail('parent_not_found')
      if (parent.disabledAt) return fail('parent_disabled')
      // A path holds every id above the unit; 255 characters is far beyond any school.
      if (parent.path.length + 12 > 255) return fail('too_deep')
    }
    if (await OrgUnit.query({ client: trx }).where('code', code.value).first()) {
      return fail('code_taken')
    }
    const unit = await insertOrgUnit(trx, parent, {
      kind: input.kind,
      code: code.value,
      name: name.value,
      sortOrder: input.sortOrder ?? 0,
    })
    const after = orgUnitSnapshot(unit, parent)
    await recordOrgUnitChange(trx, unit, 'created', diffSnapshots(null, after), actor)
    await recordAudit(
      actor,
      { action: 'org.unit_created', subjectType: 'org_unit', subjectId: unit.publicId, after },
      trx
    )
    return ok(unit)
  }
}
