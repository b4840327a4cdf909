import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type Card from '#cards/models/card'
import { canApply, MAX_NOTE_LENGTH, type RevokeReason } from '#cards/services/card_rules'
import { auditView, lockCard, type CardRef } from '#cards/services/card_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { endCard } from '#cards/services/card_ending'
import { inTransaction } from '#cards/services/transactions'

export type RevokeCardError = 'not_found' | 'invalid_transition' | 'note_required' | 'note_length'

/**
 * Revokes a card for good: it goes on the blacklist, its physical cards are
 * unbound (and listed), and the person may then be issued a new card of the
 * type. A revoked card never comes back.
 */
export class RevokeCard {
  async handle(
    input: { card: CardRef; reason?: Extract<RevokeReason, 'admin' | 'left'>; note: string },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<Card, RevokeCardError>> {
    const note = input.note?.trim() ?? ''
    if (note.length < 2) return fail('note_required')
    if (note.length > MAX_NOTE_LENGTH) return fail('note_length')
    const reason = input.reason ?? 'admin'
    return inTransaction(trx, async (client) => {
      const card = await lockCard(client, input.card)
      if (!card) return fail('not_found')
      if (!canApply('revoke', card.state))
        return fail('invalid_transition', { from: card.state, action: 'revoke' })
      const before = auditView(card)
      const from = card.state
      const versions = await endCard(client, card, { state: 'revoked', reason, note }, actor)
      await recordCardEvents(client, actor, [
        { cardId: card.id, event: 'revoked', from, to: 'revoked', reason, note },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.revoked',
          subjectType: 'card',
          subjectId: card.publicId,
          before,
          after: auditView(card),
          meta: { reason, note, blacklistVersions: versions },
        },
        client
      )
      return ok(card)
    })
  }
}
