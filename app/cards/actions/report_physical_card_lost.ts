import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type PhysicalCard from '#cards/models/physical_card'
import { lockPhysical, type PhysicalRef } from '#cards/services/physical_lookup'
import { recordCardEvents } from '#cards/services/card_history'
import { addToBlacklist } from '#cards/services/blacklist'
import { inTransaction } from '#cards/services/transactions'

export type ReportPhysicalCardLostError = 'not_found' | 'not_bound'

/**
 * A physical card was lost: it is unbound from its card and its UID goes on
 * the blacklist, so that a finder cannot use it at a terminal, online or
 * offline. The holder's electronic card keeps working.
 */
export class ReportPhysicalCardLost {
  async handle(
    input: { physical: PhysicalRef },
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<PhysicalCard, ReportPhysicalCardLostError>> {
    return inTransaction(trx, async (client) => {
      const physical = await lockPhysical(client, input.physical)
      if (!physical) return fail('not_found')
      if (physical.state !== 'bound') return fail('not_bound')
      physical.state = 'lost'
      physical.unboundAt = DateTime.utc().set({ millisecond: 0 })
      physical.unboundReason = 'lost'
      await physical.save()
      const version = await addToBlacklist(
        client,
        { kind: 'physical', uid: physical.uid, cardId: physical.cardId },
        'lost',
        actor
      )
      await recordCardEvents(client, actor, [
        {
          cardId: physical.cardId,
          event: 'physical_lost',
          reason: 'lost',
          details: { uid: physical.uid },
        },
      ])
      await recordAudit(
        actor,
        {
          action: 'cards.physical_lost',
          subjectType: 'card',
          subjectId: physical.card.publicId,
          before: { uid: physical.uid, state: 'bound' },
          after: { uid: physical.uid, state: 'lost' },
          meta: version ? { blacklistVersion: version } : undefined,
        },
        client
      )
      return ok(physical)
    })
  }
}
