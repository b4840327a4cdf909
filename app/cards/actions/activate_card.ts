import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type Card from '#cards/models/card'
import { canApply } from '#cards/services/card_rules'
import { auditView, lockCard, type CardRef } from '#cards/services/card_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { inTransaction } from '#cards/services/transactions'

export type ActivateCardError = 'not_found' | 'invalid_transition' | 'card_expired'

/**
 * Activates a card pending activation. The portal calls it when the holder
 * activates the card on their phone (the device key and the credential are
 * the campus code's business, in the same transaction when the caller
 * passes one).
 */
export class ActivateCard {
  async handle(
    input: { card: CardRef },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<Card, ActivateCardError>> {
    return inTransaction(trx, async (client) => {
      const card = await lockCard(client, input.card)
      if (!card) return fail('not_found')
      if (!canApply('activate', card.state))
        return fail('invalid_transition', { from: card.state, action: 'activate' })
      const now = DateTime.utc().set({ millisecond: 0 })
      if (card.validUntil && card.validUntil <= now) return fail('card_expired')
      const before = auditView(card)
      card.state = 'active'
      card.activatedAt = now
      await card.save()
      await recordCardEvents(client, actor, [
        { cardId: card.id, event: 'activated', from: 'pending_activation', to: 'active' },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.activated',
          subjectType: 'card',
          subjectId: card.publicId,
          before,
          after: auditView(card),
        },
        client
      )
      return ok(card)
    })
  }
}
