import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from '#core/services/audit'
import Card from '#cards/models/card'
import { LIVE_STATES } from '#cards/services/card_rules'
import { recordCardEvents } from '#cards/services/card_history'
import { endCard } from '#cards/services/card_ending'
import { dbDateTime } from '#cards/services/db_time'

/** Cards ended per transaction (and per audit entry). */
const BATCH_SIZE = 200

/**
 * Ends every live card whose validity has passed: temporary and visitor
 * cards at the end of their window, others at the end their type's rule
 * gave them. Runs every few minutes; each batch commits on its own, so a
 * crash loses nothing and a rerun continues where it stopped.
 */
export class ExpireCards {
  async handle(
    input: { now?: DateTime } = {},
    actor: AuditActor = SYSTEM_ACTOR
  ): Promise<{ expired: number }> {
    const now = (input.now ?? DateTime.utc()).toUTC().set({ millisecond: 0 })
    let expired = 0
    while (true) {
      const done = await db.transaction(async (trx) => {
        const cards = await Card.query({ client: trx })
          .whereIn('state', [...LIVE_STATES])
          .whereNotNull('valid_until')
          .where('valid_until', '<=', dbDateTime(now, trx))
          .orderBy('id')
          .limit(BATCH_SIZE)
          .forUpdate()
        if (cards.length === 0) return 0
        const events = []
        for (const card of cards) {
          const from = card.state
          await endCard(trx, card, { state: 'expired' }, actor, { at: now })
          events.push({ cardId: card.id, event: 'expired' as const, from, to: 'expired' as const })
        }
        await recordCardEvents(trx, actor, events, now)
        await recordAudit(
          actor,
          {
            action: 'cards.expired',
            subjectType: 'card',
            subjectId: cards.length === 1 ? cards[0].publicId : null,
            after: { state: 'expired' },
            meta: { count: cards.length, cards: cards.map((card) => card.cardNo) },
          },
          trx
        )
        return cards.length
      })
      expired += done
      if (done < BATCH_SIZE) return { expired }
    }
  }
}
