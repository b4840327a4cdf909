import type { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { DateTime as Clock } from 'luxon'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type Card from '#cards/models/card'
import CardType from '#cards/models/card_type'
import { MAX_NOTE_LENGTH } from '#cards/services/card_rules'
import { auditView, lockCard, type CardRef } from '#cards/services/card_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { inTransaction } from '#cards/services/transactions'

export type ExtendCardError =
  | 'not_found'
  | 'invalid_transition'
  | 'not_window'
  | 'window_invalid'
  | 'window_ended'
  | 'window_too_long'
  | 'note_required'
  | 'note_length'

/**
 * Moves the end of a temporary or visitor card (a card whose type takes its
 * window at issuance) to a later time, within the type's longest window.
 */
export class ExtendCard {
  async handle(
    input: { card: CardRef; until: DateTime; note: string },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<Card, ExtendCardError>> {
    const note = input.note?.trim() ?? ''
    if (note.length < 2) return fail('note_required')
    if (note.length > MAX_NOTE_LENGTH) return fail('note_length')
    const until = input.until.toUTC().set({ millisecond: 0 })
    if (!until.isValid) return fail('window_invalid')
    if (until <= Clock.utc()) return fail('window_ended')
    return inTransaction(trx, async (client) => {
      const card = await lockCard(client, input.card)
      if (!card) return fail('not_found')
      if (!['pending_activation', 'active', 'frozen'].includes(card.state))
        return fail('invalid_transition', { from: card.state, action: 'extend' })
      const type = await CardType.query({ client }).where('id', card.cardTypeId).firstOrFail()
      if (type.validity.kind !== 'window') return fail('not_window')
      if (card.validUntil && until <= card.validUntil) return fail('window_invalid')
      if (until.diff(card.validFrom, 'days').days > type.validity.maxDays)
        return fail('window_too_long')
      const before = auditView(card)
      const previous = card.validUntil?.toISO() ?? null
      card.validUntil = until
      await card.save()
      await recordCardEvents(client, actor, [
        {
          cardId: card.id,
          event: 'extended',
          from: card.state,
          to: card.state,
          note,
          details: { from: previous, until: until.toISO() },
        },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.extended',
          subjectType: 'card',
          subjectId: card.publicId,
          before,
          after: auditView(card),
          meta: { note, from: previous, until: until.toISO() },
        },
        client
      )
      return ok(card)
    })
  }
}
