import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Card from '#cards/models/card'

/** How callers name a card: by public id (URLs, the portal) or by internal id (jobs). */
export type CardRef = { publicId: string } | { id: number }

/**
 * Loads a card inside the caller's transaction and locks its row on
 * PostgreSQL (SQLite's write lock already serializes writers), so that two
 * administrators acting on one card take turns.
 */
export async function lockCard(trx: TransactionClientContract, ref: CardRef): Promise<Card | null> {
  const query = Card.query({ client: trx }).forUpdate()
  if ('id' in ref) query.where('id', ref.id)
  else query.where('public_id', String(ref.publicId).toUpperCase())
  const card = await query.first()
  card?.useTransaction(trx)
  return card
}

/** The physical card UIDs bound to a card now. */
export async function boundUids(trx: TransactionClientContract, cardId: number): Promise<string[]> {
  const rows = await trx
    .from('physical_cards')
    .where('card_id', cardId)
    .where('state', 'bound')
    .select('uid')
  return rows.map((row) => row.uid)
}

/** The card's state and dates, as audit entries record them before and after a change. */
export function auditView(card: Card) {
  return {
    cardNo: card.cardNo,
    state: card.state,
    validFrom: card.validFrom?.toISO() ?? null,
    validUntil: card.validUntil?.toISO() ?? null,
    frozenReason: card.frozenReason,
    frozenBy: card.frozenBy,
    revokedReason: card.revokedReason,
  }
}
