import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type PhysicalCard from '#cards/models/physical_card'
import { lockPhysical, type PhysicalRef } from '#cards/services/physical_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { removeFromBlacklist } from '#cards/services/blacklist'
import { inTransaction } from '#cards/services/transactions'

export type UnbindPhysicalCardError = 'not_found' | 'not_bound'

/**
 * Unbinds a physical card that was handed back: the UID is free to be
 * bound again. A UID listed only because its card was frozen leaves the
 * blacklist with it.
 */
export class UnbindPhysicalCard {
  async handle(
    input: { physical: PhysicalRef },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<PhysicalCard, UnbindPhysicalCardError>> {
    return inTransaction(trx, async (client) => {
      const physical = await lockPhysical(client, input.physical)
      if (!physical) return fail('not_found')
      if (physical.state !== 'bound') return fail('not_bound')
      physical.state = 'unbound'
      physical.unboundAt = DateTime.utc().set({ millisecond: 0 })
      physical.unboundReason = 'returned'
      await physical.save()
      const version = await removeFromBlacklist(
        client,
        { kind: 'physical', uid: physical.uid },
        actor,
        ['lost', 'admin', 'risk']
      )
      await recordCardEvents(client, actor, [
        {
          cardId: physical.cardId,
          event: 'physical_unbound',
          reason: 'returned',
          details: { uid: physical.uid },
        },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.physical_unbound',
          subjectType: 'card',
          subjectId: physical.card.publicId,
          before: { uid: physical.uid, state: 'bound' },
          after: { uid: physical.uid, state: 'unbound' },
          meta: version ? { blacklistVersion: version } : undefined,
        },
        client
      )
      return ok(physical)
    })
  }
}
