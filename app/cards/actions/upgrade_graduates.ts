import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from '#core/services/audit'
import Card from '#cards/models/card'
import CardUpgradeRule from '#cards/models/card_upgrade_rule'
import { recordCardEvents } from '#cards/services/card_history'
import { endCard, movePhysicalCards } from '#cards/services/card_ending'
import { insertCard, liveCardOf } from '#cards/services/card_issuing'
import { computeValidity } from '#cards/services/validity'
import { schoolZone } from '#cards/services/school_zone'

/** Cards upgraded per transaction (and per audit entry). */
const BATCH_SIZE = 100

export interface UpgradeSummary {
  upgraded: number
  /** Per rule public id. */
  byRule: Record<string, number>
}

/**
 * Applies the upgrade rules (student → alumni at graduation): each card of
 * the rule's "from" type whose holder graduated, or whose expected
 * graduation date has passed, is revoked with the reason "upgraded" and a
 * card of the "to" type is issued in the same transaction, the two linked
 * in their histories. A physical card moves along. Frozen cards wait until
 * they are unfrozen; disabled rules and types do nothing.
 *
 * Runs nightly; safe to rerun: an upgraded card is no longer live.
 */
export class UpgradeGraduates {
  async handle(
    input: { today?: DateTime } = {},
    actor: AuditActor = SYSTEM_ACTOR
  ): Promise<UpgradeSummary> {
    const zone = await schoolZone()
    const today = (input.today ?? DateTime.now().setZone(zone)).setZone(zone).toISODate()!
    const rules = await CardUpgradeRule.query()
      .where('enabled', true)
      .preload('fromType')
      .preload('toType')
      .orderBy('id')
    const summary: UpgradeSummary = { upgraded: 0, byRule: {} }
    for (const rule of rules) {
      if (!rule.fromType.enabled || !rule.toType.enabled || rule.toType.isTemporary) continue
      let count = 0
      let after = 0
      while (true) {
        const batch = await this.candidates(rule, today, after)
        if (batch.length === 0) break
        after = batch[batch.length - 1]
        count += await db.transaction((trx) => this.upgrade(trx, rule, batch, zone, actor))
        if (batch.length < BATCH_SIZE) break
      }
      summary.byRule[rule.publicId] = count
      summary.upgraded += count
    }
    return summary
  }

  /** Ids of live, unfrozen cards of the rule's type whose holder meets the trigger. */
  private async candidates(rule: CardUpgradeRule, today: string, after: number) {
    const query = db
      .from('cards')
      .join('people', 'people.id', 'cards.person_id')
      .where('cards.card_type_id', rule.fromTypeId)
      .whereIn('cards.state', ['pending_activation', 'active'])
      .where('cards.id', '>', after)
      .orderBy('cards.id')
      .limit(BATCH_SIZE)
      .select('cards.id')
    if (rule.trigger === 'graduated') query.where('people.status', 'graduated')
    else
      query
        .whereNotNull('people.expected_graduation_date')
        .where('people.expected_graduation_date', '<', today)
        .whereNot('people.status', 'left')
    const rows = await query
    return rows.map((row) => Number(row.id))
  }

  private async upgrade(
    trx: TransactionClientContract,
    rule: CardUpgradeRule,
    ids: number[],
    zone: string,
    actor: AuditActor
  ): Promise<number> {
    const cards = await Card.query({ client: trx })
      .whereIn('id', ids)
      .whereIn('state', ['pending_activation', 'active'])
      .preload('person')
      .forUpdate()
    const now = DateTime.utc().set({ millisecond: 0 })
    const upgraded: { from: string; to: string }[] = []
    for (const card of cards) {
      const validity = computeValidity(rule.toType.validity, {
        now,
        zone,
        expectedGraduationDate: card.person.expectedGraduationDate,
      })
      // A rule that gives no validity still ahead (a fixed date passed) ends the card only.
      const target = validity.ok ? validity.value : null
      const from = card.state
      await endCard(trx, card, { state: 'revoked', reason: 'upgraded' }, actor, {
        keepPhysical: true,
        at: now,
      })
      const inserted = target
        ? await insertCard(
            trx,
            { personId: card.personId, cardTypeId: rule.toTypeId, ...target, replacesId: card.id },
            now
          )
        : null
      // The person may already hold a card of the new type: link to it instead.
      const successor = inserted ?? (await liveCardOf(trx, card.personId, rule.toTypeId))
      const successorId = successor ? Number(successor.id) : null
      card.replacedById = successorId
      await card.save()
      await recordCardEvents(
        trx,
        actor,
        [
          {
            cardId: card.id,
            event: 'upgraded',
            from,
            to: 'revoked',
            reason: 'upgraded',
            relatedCardId: successorId,
            details: { rule: rule.publicId, trigger: rule.trigger },
          },
          ...(inserted
            ? [
                {
                  cardId: inserted.id,
                  event: 'issued' as const,
                  to: 'pending_activation' as const,
                  reason: 'upgraded',
                  relatedCardId: card.id,
                  details: { rule: rule.publicId },
                },
              ]
            : []),
        ],
        now
      )
      if (successorId) await movePhysicalCards(trx, card, successorId, actor)
      upgraded.push({ from: card.cardNo, to: inserted?.cardNo ?? '' })
    }
    if (upgraded.length > 0) {
      await recordAudit(
        actor,
        {
          action: 'cards.upgraded',
          subjectType: 'card_upgrade_rule',
          subjectId: rule.publicId,
          meta: {
            from: rule.fromType.code,
            to: rule.toType.code,
            trigger: rule.trigger,
            count: upgraded.length,
            cards: upgraded,
          },
        },
        trx
      )
    }
    return upgraded.length
  }
}
