import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { newPublicId } from '#core/services/ids'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import PhysicalCard from '#cards/models/physical_card'
import { lockCard, type CardRef } from '#cards/services/card_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { removeFromBlacklist, uidListing } from '#cards/services/blacklist'
import { normalizeUid } from '#cards/services/uids'
import { dbDateTime } from '#cards/services/db_time'
import { inTransaction } from '#cards/services/transactions'

export type BindPhysicalCardError =
  'not_found' | 'uid_invalid' | 'card_not_usable' | 'card_has_physical' | 'uid_in_use' | 'uid_lost'

/**
 * Binds a physical card, by its chip UID, to a person's card. A UID is
 * bound to one card at a time and a card has one physical card; a UID
 * reported lost must be marked found first. A UID listed only because its
 * previous card ended leaves the blacklist when it is bound again.
 */
export class BindPhysicalCard {
  async handle(
    input: { card: CardRef; uid: string },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<PhysicalCard, BindPhysicalCardError>> {
    const uid = normalizeUid(input.uid)
    if (!uid.ok) return uid
    return inTransaction(trx, async (client) => {
      const card = await lockCard(client, input.card)
      if (!card) return fail('not_found')
      if (card.state !== 'active' && card.state !== 'pending_activation')
        return fail('card_not_usable', { state: card.state })
      const existing = await client
        .from('physical_cards')
        .where('card_id', card.id)
        .where('state', 'bound')
        .first()
      if (existing) return fail('card_has_physical')
      if ((await uidListing(client, uid.value)) === 'lost') return fail('uid_lost')

      const now = DateTime.utc().set({ millisecond: 0 })
      const time = dbDateTime(now, client)
      const publicId = newPublicId()
      // The partial unique index on bound UIDs decides a race between two bindings.
      const rows = await client
        .knexQuery()
        .table('physical_cards')
        .insert({
          public_id: publicId,
          uid: uid.value,
          person_id: card.personId,
          card_id: card.id,
          state: 'bound',
          bound_at: time,
          created_at: time,
          updated_at: time,
        })
        .onConflict()
        .ignore()
        .returning('id')
      if (rows.length === 0) return fail('uid_in_use')
      const version = await removeFromBlacklist(client, { kind: 'physical', uid: uid.value }, actor)
      await recordCardEvents(client, actor, [
        { cardId: card.id, event: 'physical_bound', details: { uid: uid.value } },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.physical_bound',
          subjectType: 'card',
          subjectId: card.publicId,
          after: { uid: uid.value, cardNo: card.cardNo },
          meta: version ? { blacklistVersion: version } : undefined,
        },
        client
      )
      return ok(await PhysicalCard.query({ client }).where('public_id', publicId).firstOrFail())
    })
  }
}
