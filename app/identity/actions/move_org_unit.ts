import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type OrgUnit from '#identity/models/org_unit'
import { findOrgUnit, type OrgUnitRef } from '#identity/services/org_units'
import { recordOrgUnitChange } from '#identity/services/person_history'

export interface MoveInput {
  unit: OrgUnitRef
  newParent: OrgUnitRef
}

export type MoveOrgUnitError =
  | 'not_found'
  | 'parent_not_found'
  | 'parent_disabled'
  | 'into_own_subtree'
  | 'unchanged'
  | 'too_deep'

const MAX_PATH = 255

/**
 * Moves a unit, with everything below it, under another parent. The paths
 * and depths of the whole subtree are rewritten in one statement inside the
 * same transaction as the audit entry. A unit cannot move below itself.
 * Pass `trx` to join a larger transaction (an import of the org tree).
 */
export class MoveOrgUnit {
  async handle(
    input: MoveInput,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<OrgUnit, MoveOrgUnitError>> {
    return trx
      ? this.move(trx, input, actor)
      : db.transaction((own) => this.move(own, input, actor))
  }

  private async move(
    trx: TransactionClientContract,
    input: MoveInput,
    actor: AuditActor
  ): Promise<Result<OrgUnit, MoveOrgUnitError>> {
    const unit = await findOrgUnit(input.unit, trx)
    if (!unit) return fail('not_found')
    const parent = await findOrgUnit(input.newParent, trx)
    if (!parent) return fail('parent_not_found')
    if (parent.path.startsWith(unit.path)) return fail('into_own_subtree')
    if (parent.id === unit.parentId) return fail('unchanged')
    if (parent.disabledAt) return fail('parent_disabled')

    const oldPrefix = unit.path
    const newPrefix = `${parent.path}${unit.id}/`
    const deepest = await trx
      .from('org_units')
      .where('path', 'like', `${oldPrefix}%`)
      .select(trx.raw('max(length(path)) as longest'))
      .first()
    if (Number(deepest?.longest ?? 0) + newPrefix.length - oldPrefix.length > MAX_PATH) {
      return fail('too_deep')
    }
    const previousParent = unit.parentId ? await findOrgUnit({ id: unit.parentId }, trx) : null

    // Paths hold only digits and slashes: the prefix needs no LIKE escaping.
    await trx
      .from('org_units')
      .where('path', 'like', `${oldPrefix}%`)
      .update({
        path: trx.raw('? || substr(path, CAST(? AS INTEGER))', [newPrefix, oldPrefix.length + 1]),
        depth: trx.raw('depth + CAST(? AS INTEGER)', [parent.depth + 1 - unit.depth]),
        updated_at: DateTime.utc().toFormat(trx.dialect.dateTimeFormat),
      })
    await trx.from('org_units').where('id', unit.id).update({ parent_id: parent.id })
    await unit.refresh()

    const label = (node: OrgUnit | null) => (node ? `${node.name} (${node.code})` : null)
    const changes = { parent: [label(previousParent), label(parent)] as [unknown, unknown] }
    await recordOrgUnitChange(trx, unit, 'moved', changes, actor)
    await recordAudit(
      actor,
      {
        action: 'org.unit_moved',
        subjectType: 'org_unit',
        subjectId: unit.publicId,
        before: { parent: previousParent?.publicId ?? null, path: oldPrefix },
        after: { parent: parent.publicId, path: newPrefix },
      },
      trx
    )
    return ok(unit)
  }
}
