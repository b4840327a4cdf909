import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { dbDateTime } from '#cards/services/db_time'

/** One row of the access event log, as the actions write it. */
export interface AccessEventFields {
  occurredAt: number
  pointId: number | null
  zoneId: number | null
  direction: string | null
  personId: number | null
  cardNo: string | null
  uid: string | null
  credential: 'code' | 'card'
  allowed: boolean
  reason: string
  mode: 'online' | 'offline'
  terminalId: number | null
  terminalSeq: number | null
  rulesVersion: number | null
}

/** The insertable row of an event. */
export function eventRow(fields: AccessEventFields, client: QueryClientContract) {
  return {
    occurred_at: dbDateTime(DateTime.fromSeconds(fields.occurredAt), client),
    recorded_at: dbDateTime(DateTime.utc(), client),
    point_id: fields.pointId,
    zone_id: fields.zoneId,
    direction: fields.direction,
    person_id: fields.personId,
    card_no: fields.cardNo,
    uid: fields.uid,
    credential: fields.credential,
    allowed: fields.allowed,
    reason: fields.reason.slice(0, 48),
    mode: fields.mode,
    terminal_id: fields.terminalId,
    terminal_seq: fields.terminalSeq,
    rules_version: fields.rulesVersion,
  }
}

/** Writes one decision to the event log; returns its id. */
export async function recordAccessEvent(
  fields: AccessEventFields,
  client: QueryClientContract = db.connection()
): Promise<number> {
  const [row] = await client.table('access_events').insert(eventRow(fields, client)).returning('id')
  return Number(typeof row === 'object' ? row.id : row)
}

/** Person ids of card numbers, for the event log. */
export async function personIdsOfCards(
  cardNos: string[],
  client: QueryClientContract = db.connection()
): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  for (let start = 0; start < cardNos.length; start += 5000) {
    const rows = await client
      .from('cards')
      .whereIn('card_no', cardNos.slice(start, start + 5000))
      .select('card_no', 'person_id')
    for (const row of rows) found.set(row.card_no, Number(row.person_id))
  }
  return found
}

/** The card (card number, person id) a UID is or was last bound to. */
export async function cardOfUid(
  uid: string,
  client: QueryClientContract = db.connection()
): Promise<{ cardId: number; cardNo: string; personId: number; bound: boolean } | null> {
  const row = await client
    .from('physical_cards')
    .join('cards', 'cards.id', 'physical_cards.card_id')
    .where('physical_cards.uid', uid)
    .orderByRaw(`CASE WHEN physical_cards.state = 'bound' THEN 0 ELSE 1 END`)
    .orderBy('physical_cards.id', 'desc')
    .select('cards.id', 'cards.card_no', 'physical_cards.person_id', 'physical_cards.state')
    .first()
  if (!row) return null
  return {
    cardId: Number(row.id),
    cardNo: row.card_no,
    personId: Number(row.person_id),
    bound: row.state === 'bound',
  }
}
