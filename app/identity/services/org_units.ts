import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import OrgUnit from '#identity/models/org_unit'

/** How callers name an org unit: the console by public id, imports by code. */
export type OrgUnitRef = { publicId: string } | { code: string } | { id: number }

/** Finds the unit a reference names, or null. */
export async function findOrgUnit(
  ref: OrgUnitRef,
  trx?: TransactionClientContract
): Promise<OrgUnit | null> {
  const query = OrgUnit.query(trx ? { client: trx } : {})
  if ('id' in ref) return query.where('id', ref.id).first()
  if ('publicId' in ref) return query.where('public_id', ref.publicId.toUpperCase()).first()
  return query.where('code', ref.code.trim()).first()
}
