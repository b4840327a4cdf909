import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { newPublicId } from '#core/services/ids'
import { LIVE_STATES } from '#cards/services/card_rules'
import { newCardNo } from '#cards/services/card_numbers'
import { dbDateTime } from '#cards/services/db_time'

/** What a new card needs; every issuing path (single, bulk, reissue, upgrade) goes through here. */
export interface NewCard {
  personId: number
  cardTypeId: number
  validFrom: DateTime
  validUntil: DateTime | null
  issuanceId?: number | null
  replacesId?: number | null
}

export interface InsertedCard {
  id: number
  publicId: string
  cardNo: string
}

/** Card numbers tried before giving up; with a billion numbers a year, one nearly always does. */
const NUMBER_ATTEMPTS = 8

/** The person's live card of the type, if any. */
export async function liveCardOf(
  trx: TransactionClientContract,
  personId: number,
  cardTypeId: number
): Promise<{ id: number; public_id: string } | null> {
  const row = await trx
    .from('cards')
    .where('person_id', personId)
    .where('card_type_id', cardTypeId)
    .whereIn('state', [...LIVE_STATES])
    .select('id', 'public_id')
    .first()
  return row ?? null
}

/**
 * Inserts a card pending activation, unless the person already holds a
 * live card of the type: then nothing is written and the answer is null.
 *
 * The check is the database's own (the partial unique index on live cards),
 * made with INSERT … ON CONFLICT DO NOTHING, so that two issuances racing
 * for one person cannot both win, on SQLite or PostgreSQL. A conflict on
 * the card number instead is retried with another number.
 */
export async function insertCard(
  trx: TransactionClientContract,
  card: NewCard,
  now: DateTime = DateTime.utc()
): Promise<InsertedCard | null> {
  const time = dbDateTime(now, trx)
  for (let attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
    const publicId = newPublicId()
    const cardNo = newCardNo(now.year)
    const rows = await trx
      .knexQuery()
      .table('cards')
      .insert({
        public_id: publicId,
        card_no: cardNo,
        person_id: card.personId,
        card_type_id: card.cardTypeId,
        state: 'pending_activation',
        valid_from: dbDateTime(card.validFrom, trx),
        valid_until: card.validUntil ? dbDateTime(card.validUntil, trx) : null,
        issued_at: time,
        issuance_id: card.issuanceId ?? null,
        replaces_id: card.replacesId ?? null,
        created_at: time,
        updated_at: time,
      })
      .onConflict()
      .ignore()
      .returning('id')
    if (rows.length > 0) {
      const first = rows[0] as { id: number } | number
      return { id: Number(typeof first === 'object' ? first.id : first), publicId, cardNo }
    }
    if (await liveCardOf(trx, card.personId, card.cardTypeId)) return null
  }
  throw new Error('No free card number after several attempts')
}
