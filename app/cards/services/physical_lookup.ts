import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import PhysicalCard from '#cards/models/physical_card'

/** How callers name a physical card: its binding's public id, or its UID (its latest binding). */
export type PhysicalRef = { publicId: string } | { uid: string }

/** Loads and locks a physical card binding. */
export async function lockPhysical(
  trx: TransactionClientContract,
  ref: PhysicalRef
): Promise<PhysicalCard | null> {
  const query = PhysicalCard.query({ client: trx }).preload('card').forUpdate()
  if ('publicId' in ref) query.where('public_id', String(ref.publicId).toUpperCase())
  else query.where('uid', ref.uid).orderBy('id', 'desc')
  const physical = await query.first()
  physical?.useTransaction(trx)
  return physical
}
