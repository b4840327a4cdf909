import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import type { CardEventName, CardState } from '#cards/services/card_rules'
import { dbDateTime } from '#cards/services/db_time'

/** One line of a card's history, as the actions write it. */
export interface CardEventInput {
  cardId: number
  event: CardEventName
  from?: CardState | null
  to?: CardState | null
  reason?: string | null
  note?: string | null
  relatedCardId?: number | null
  details?: Record<string, unknown> | null
}

function row(input: CardEventInput, actor: AuditActor, now: string) {
  return {
    card_id: input.cardId,
    event: input.event,
    from_state: input.from ?? null,
    to_state: input.to ?? null,
    reason: input.reason ?? null,
    note: input.note ? input.note.slice(0, 500) : null,
    related_card_id: input.relatedCardId ?? null,
    details: input.details ? JSON.stringify(input.details) : null,
    actor_type: actor.type,
    actor_id: actor.id ?? null,
    actor_name: actor.name ? actor.name.slice(0, 100) : null,
    occurred_at: now,
  }
}

/**
 * Appends lines to cards' histories in the caller's transaction, so that a
 * change and its history are written together or not at all.
 */
export async function recordCardEvents(
  trx: TransactionClientContract,
  actor: AuditActor,
  events: CardEventInput[],
  at: DateTime = DateTime.utc()
): Promise<void> {
  if (events.length === 0) return
  const now = dbDateTime(at, trx)
  // Multi-row inserts in slices keep far below the databases' parameter limits.
  for (let start = 0; start < events.length; start += 200) {
    await trx
      .table('card_events')
      .multiInsert(events.slice(start, start + 200).map((event) => row(event, actor, now)))
  }
}
