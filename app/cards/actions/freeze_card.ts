import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type Card from '#cards/models/card'
import {
  canApply,
  FREEZE_ACTORS,
  FREEZE_REASONS,
  MAX_NOTE_LENGTH,
  type FreezeActor,
  type FreezeReason,
} from '#cards/services/card_rules'
import { auditView, boundUids, lockCard, type CardRef } from '#cards/services/card_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { addToBlacklist } from '#cards/services/blacklist'
import { inTransaction } from '#cards/services/transactions'

export interface FreezeCardInput {
  card: CardRef
  /** The holder reporting a loss (portal), an administrator (console), or the risk engine. */
  by: FreezeActor
  reason: FreezeReason
  /** Required from an administrator: the console shows it in the card's history. */
  note?: string | null
}

export type FreezeCardError =
  'not_found' | 'invalid_transition' | 'invalid_reason' | 'note_required' | 'note_length'

/**
 * Freezes a card (a loss report, an administrator's decision or a risk
 * signal). A frozen card is refused everywhere: the card and every
 * physical card bound to it go on the blacklist that terminals keep, in
 * the same transaction.
 */
export class FreezeCard {
  async handle(
    input: FreezeCardInput,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<Card, FreezeCardError>> {
    if (!FREEZE_ACTORS.includes(input.by) || !FREEZE_REASONS.includes(input.reason))
      return fail('invalid_reason')
    const note = input.note?.trim() || null
    if (input.by === 'admin' && (!note || note.length < 2)) return fail('note_required')
    if (note && note.length > MAX_NOTE_LENGTH) return fail('note_length')

    return inTransaction(trx, async (client) => {
      const card = await lockCard(client, input.card)
      if (!card) return fail('not_found')
      if (!canApply('freeze', card.state))
        return fail('invalid_transition', { from: card.state, action: 'freeze' })
      const before = auditView(card)
      const from = card.state
      card.state = 'frozen'
      card.frozenAt = DateTime.utc().set({ millisecond: 0 })
      card.frozenBy = input.by
      card.frozenReason = input.reason
      card.frozenNote = note
      await card.save()

      const versions: number[] = []
      const added = await addToBlacklist(
        client,
        { kind: 'card', cardId: card.id },
        input.reason,
        actor
      )
      if (added) versions.push(added)
      for (const uid of await boundUids(client, card.id)) {
        const version = await addToBlacklist(
          client,
          { kind: 'physical', uid, cardId: card.id },
          input.reason,
          actor
        )
        if (version) versions.push(version)
      }
      await recordCardEvents(client, actor, [
        {
          cardId: card.id,
          event: 'frozen',
          from,
          to: 'frozen',
          reason: input.reason,
          note,
          details: { by: input.by },
        },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.frozen',
          subjectType: 'card',
          subjectId: card.publicId,
          before,
          after: auditView(card),
          meta: { by: input.by, reason: input.reason, note, blacklistVersions: versions },
        },
        client
      )
      return ok(card)
    })
  }
}
