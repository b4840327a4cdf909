import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import type Card from '#cards/models/card'
import type { RevokeReason } from '#cards/services/card_rules'
import { addToBlacklist, removeFromBlacklist } from '#cards/services/blacklist'
import { recordCardEvents } from '#cards/services/card_history'
import { dbDateTime } from '#cards/services/db_time'

export type CardEnd =
  { state: 'revoked'; reason: RevokeReason; note?: string | null } | { state: 'expired' }

/**
 * Ends a card (revoked or expired) inside the caller's transaction.
 *
 * A revoked card goes on the blacklist: credentials already on the holder's
 * phone stay valid until they run out, and offline terminals must refuse
 * them meanwhile. An expired card does not: its credentials end with it.
 *
 * Physical cards bound to the card are unbound and their UIDs listed,
 * unless `keepPhysical` (a reissue or an upgrade moves them to the new card
 * with movePhysicalCards). Returns the blacklist versions written.
 */
export async function endCard(
  trx: TransactionClientContract,
  card: Card,
  end: CardEnd,
  actor: AuditActor,
  options: { keepPhysical?: boolean; at?: DateTime } = {}
): Promise<number[]> {
  const at = (options.at ?? DateTime.utc()).set({ millisecond: 0 })
  card.useTransaction(trx)
  card.state = end.state
  if (end.state === 'revoked') {
    card.revokedAt = at
    card.revokedReason = end.reason
    card.revokedNote = end.note?.trim() || null
  } else {
    card.expiredAt = at
  }
  await card.save()
  const versions: number[] = []
  if (end.state === 'revoked') {
    const version = await addToBlacklist(trx, { kind: 'card', cardId: card.id }, 'revoked', actor)
    if (version) versions.push(version)
  }
  if (!options.keepPhysical) versions.push(...(await unbindAll(trx, card, end, actor, at)))
  return versions
}

async function unbindAll(
  trx: TransactionClientContract,
  card: Card,
  end: CardEnd,
  actor: AuditActor,
  at: DateTime
): Promise<number[]> {
  const bound = await trx
    .from('physical_cards')
    .where('card_id', card.id)
    .where('state', 'bound')
    .select('id', 'uid')
  const versions: number[] = []
  for (const physical of bound) {
    await trx
      .from('physical_cards')
      .where('id', physical.id)
      .update({
        state: 'unbound',
        unbound_at: dbDateTime(at, trx),
        unbound_reason: 'card_ended',
        updated_at: dbDateTime(at, trx),
      })
    const version = await addToBlacklist(
      trx,
      { kind: 'physical', uid: physical.uid, cardId: card.id },
      end.state === 'revoked' ? 'revoked' : 'expired',
      actor
    )
    if (version) versions.push(version)
    await recordCardEvents(
      trx,
      actor,
      [
        {
          cardId: card.id,
          event: 'physical_unbound',
          reason: 'card_ended',
          details: { uid: physical.uid },
        },
      ],
      at
    )
  }
  return versions
}

/**
 * Moves the physical cards bound to an ended card to its successor: the
 * holder keeps the plastic card they carry. A UID listed only because the
 * old card was frozen leaves the blacklist. If the successor already has a
 * physical card, the old one is unbound and listed instead.
 */
export async function movePhysicalCards(
  trx: TransactionClientContract,
  from: Card,
  toCardId: number,
  actor: AuditActor
): Promise<number[]> {
  const at = DateTime.utc().set({ millisecond: 0 })
  const bound = await trx
    .from('physical_cards')
    .where('card_id', from.id)
    .where('state', 'bound')
    .select('id', 'uid')
  if (bound.length === 0) return []
  const taken = await trx
    .from('physical_cards')
    .where('card_id', toCardId)
    .where('state', 'bound')
    .first()
  if (taken) return unbindAll(trx, from, { state: 'revoked', reason: 'reissued' }, actor, at)
  const versions: number[] = []
  for (const physical of bound) {
    await trx
      .from('physical_cards')
      .where('id', physical.id)
      .update({ card_id: toCardId, updated_at: dbDateTime(at, trx) })
    const version = await removeFromBlacklist(trx, { kind: 'physical', uid: physical.uid }, actor)
    if (version) versions.push(version)
    await recordCardEvents(
      trx,
      actor,
      [
        {
          cardId: from.id,
          event: 'physical_unbound',
          reason: 'replaced',
          relatedCardId: toCardId,
          details: { uid: physical.uid },
        },
        {
          cardId: toCardId,
          event: 'physical_bound',
          reason: 'replaced',
          relatedCardId: from.id,
          details: { uid: physical.uid },
        },
      ],
      at
    )
  }
  return versions
}
