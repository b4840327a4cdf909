import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type PhysicalCard from '#cards/models/physical_card'
import { lockPhysical, type PhysicalRef } from '#cards/services/physical_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { removeFromBlacklist } from '#cards/services/blacklist'
import { inTransaction } from '#cards/services/transactions'

export type MarkPhysicalCardFoundError = 'not_found' | 'not_lost'

/**
 * A lost physical card turned up again: its UID leaves the blacklist and
 * it may be bound again (to the same holder or, once wiped, to anyone).
 */
export class MarkPhysicalCardFound {
  async handle(
    input: { physical: PhysicalRef },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<PhysicalCard, MarkPhysicalCardFoundError>> {
    return inTransaction(trx, async (client) => {
      const physical = await lockPhysical(client, input.physical)
      if (!physical) return fail('not_found')
      if (physical.state !== 'lost') return fail('not_lost')
      physical.state = 'unbound'
      await physical.save()
      const version = await removeFromBlacklist(
        client,
        { kind: 'physical', uid: physical.uid },
        actor,
        ['lost']
      )
      await recordCardEvents(client, actor, [
        {
          cardId: physical.cardId,
          event: 'physical_found',
          details: { uid: physical.uid },
        },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.physical_found',
          subjectType: 'card',
          subjectId: physical.card.publicId,
          before: { uid: physical.uid, state: 'lost' },
          after: { uid: physical.uid, state: 'unbound' },
          meta: version ? { blacklistVersion: version } : undefined,
        },
        client
      )
      return ok(physical)
    })
  }
}
