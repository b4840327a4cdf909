import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Card from '#cards/models/card'
import { canApply, MAX_NOTE_LENGTH } from '#cards/services/card_rules'
import { auditView, lockCard, type CardRef } from '#cards/services/card_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { endCard, movePhysicalCards } from '#cards/services/card_ending'
import { insertCard } from '#cards/services/card_issuing'
import { inTransaction } from '#cards/services/transactions'

export type ReissueCardError =
  'not_found' | 'invalid_transition' | 'note_required' | 'note_length' | 'validity_passed'

/**
 * Replaces a card (a lost phone, a compromised card): the old card is
 * revoked and blacklisted, a new card with a new number and the same type
 * and end of validity is issued pending activation, and the two are linked
 * in both histories. A physical card bound to the old card moves to the new one.
 */
export class ReissueCard {
  async handle(
    input: { card: CardRef; note: string },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<{ old: Card; card: Card }, ReissueCardError>> {
    const note = input.note?.trim() ?? ''
    if (note.length < 2) return fail('note_required')
    if (note.length > MAX_NOTE_LENGTH) return fail('note_length')
    return inTransaction(trx, async (client) => {
      const old = await lockCard(client, input.card)
      if (!old) return fail('not_found')
      if (!canApply('reissue', old.state))
        return fail('invalid_transition', { from: old.state, action: 'reissue' })
      const now = DateTime.utc().set({ millisecond: 0 })
      if (old.validUntil && old.validUntil <= now) return fail('validity_passed')
      const before = auditView(old)
      const from = old.state
      const versions = await endCard(
        client,
        old,
        { state: 'revoked', reason: 'reissued', note },
        actor,
        { keepPhysical: true }
      )
      const inserted = await insertCard(
        client,
        {
          personId: old.personId,
          cardTypeId: old.cardTypeId,
          validFrom: old.validFrom > now ? old.validFrom : now,
          validUntil: old.validUntil,
          replacesId: old.id,
        },
        now
      )
      // The old card was the person's live card of the type and is revoked now.
      if (!inserted) throw new Error('A live card appeared while reissuing')
      old.replacedById = inserted.id
      await old.save()
      await recordCardEvents(client, actor, [
        {
          cardId: old.id,
          event: 'reissued',
          from,
          to: 'revoked',
          reason: 'reissued',
          note,
          relatedCardId: inserted.id,
        },
        {
          cardId: inserted.id,
          event: 'issued',
          to: 'pending_activation',
          reason: 'reissued',
          note,
          relatedCardId: old.id,
        },
      ])
      versions.push(...(await movePhysicalCards(client, old, inserted.id, actor)))
      const card = await Card.query({ client }).where('id', inserted.id).firstOrFail()
      await recordAudit(
        actor,
        {
          action: 'cards.reissued',
          subjectType: 'card',
          subjectId: old.publicId,
          before,
          after: { old: auditView(old), new: { publicId: card.publicId, ...auditView(card) } },
          meta: { note, blacklistVersions: versions },
        },
        client
      )
      return ok({ old, card })
    })
  }
}
