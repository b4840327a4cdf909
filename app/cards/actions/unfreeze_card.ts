import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type Card from '#cards/models/card'
import { canApply, MAX_NOTE_LENGTH } from '#cards/services/card_rules'
import { auditView, boundUids, lockCard, type CardRef } from '#cards/services/card_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { removeFromBlacklist } from '#cards/services/blacklist'
import { inTransaction } from '#cards/services/transactions'

export type UnfreezeCardError = 'not_found' | 'invalid_transition' | 'note_length'

/**
 * Lifts a freeze: the card returns to active (or to pending activation if
 * it was never activated) and leaves the blacklist, with its bound
 * physical cards, in the same transaction.
 */
export class UnfreezeCard {
  async handle(
    input: { card: CardRef; note?: string | null },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<Card, UnfreezeCardError>> {
    const note = input.note?.trim() || null
    if (note && note.length > MAX_NOTE_LENGTH) return fail('note_length')
    return inTransaction(trx, async (client) => {
      const card = await lockCard(client, input.card)
      if (!card) return fail('not_found')
      if (!canApply('unfreeze', card.state))
        return fail('invalid_transition', { from: card.state, action: 'unfreeze' })
      const before = auditView(card)
      const reason = card.frozenReason
      card.state = card.activatedAt ? 'active' : 'pending_activation'
      card.frozenAt = null
      card.frozenBy = null
      card.frozenReason = null
      card.frozenNote = null
      await card.save()

      const versions: number[] = []
      const removed = await removeFromBlacklist(client, { kind: 'card', cardId: card.id }, actor)
      if (removed) versions.push(removed)
      for (const uid of await boundUids(client, card.id)) {
        const version = await removeFromBlacklist(client, { kind: 'physical', uid }, actor, [
          'lost',
          'admin',
          'risk',
        ])
        if (version) versions.push(version)
      }
      await recordCardEvents(client, actor, [
        { cardId: card.id, event: 'unfrozen', from: 'frozen', to: card.state, reason, note },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.unfrozen',
          subjectType: 'card',
          subjectId: card.publicId,
          before,
          after: auditView(card),
          meta: { note, blacklistVersions: versions },
        },
        client
      )
      return ok(card)
    })
  }
}
