import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { fail, ok, type Result } from '#core/services/result'
import { isOrgScoped } from '#core/services/permissions'
import AdminGrant from '#identity/models/admin_grant'
import OrgUnit from '#identity/models/org_unit'
import Role from '#identity/models/role'

export type GrantTargetError = 'role_unknown' | 'unit_unknown' | 'not_scopable'

/**
 * The role and unit a new grant names, checked: both exist, and a role
 * granted at a unit has something that a unit can limit (a role of only
 * school-wide permissions would give nothing there).
 */
export async function resolveGrantTarget(
  trx: TransactionClientContract,
  rolePublicId: string,
  unitPublicId: string | null
): Promise<Result<{ role: Role; unit: OrgUnit | null }, GrantTargetError>> {
  const role = await Role.query({ client: trx }).where('public_id', rolePublicId).first()
  if (!role) return fail('role_unknown')
  if (unitPublicId === null) return ok({ role, unit: null })
  const unit = await OrgUnit.query({ client: trx }).where('public_id', unitPublicId).first()
  if (!unit) return fail('unit_unknown')
  if (!role.permissions.some(isOrgScoped)) return fail('not_scopable')
  return ok({ role, unit })
}

/** Whether the account holds this role at this place (the whole school when unit is null). */
export async function holdsGrant(
  trx: TransactionClientContract,
  userId: number,
  roleId: number,
  unitId: number | null
): Promise<boolean> {
  const query = AdminGrant.query({ client: trx }).where('user_id', userId).where('role_id', roleId)
  if (unitId === null) query.whereNull('org_unit_id')
  else query.where('org_unit_id', unitId)
  return Boolean(await query.first())
}

/** How a grant reads in the audit log: role key and unit, by public ids and names. */
export function grantRecord(role: Role, unit: Pick<OrgUnit, 'publicId' | 'name'> | null) {
  return {
    role: role.key,
    roleName: role.nameZh,
    unit: unit ? { publicId: unit.publicId, name: unit.name } : null,
  }
}
