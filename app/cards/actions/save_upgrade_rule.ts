import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import CardType from '#cards/models/card_type'
import CardUpgradeRule from '#cards/models/card_upgrade_rule'
import { UPGRADE_TRIGGERS, type UpgradeTrigger } from '#cards/services/card_rules'

export type SaveUpgradeRuleError =
  'type_not_found' | 'same_type' | 'temporary_target' | 'invalid_trigger' | 'duplicate'

/**
 * Adds an upgrade rule: cards of one type become cards of another when the
 * trigger happens. The target cannot be a temporary type (its cards need a
 * window chosen by a person).
 */
export class CreateUpgradeRule {
  async handle(
    input: { fromType: string; toType: string; trigger: UpgradeTrigger },
    actor: AuditActor
  ): Promise<Result<CardUpgradeRule, SaveUpgradeRuleError>> {
    if (!UPGRADE_TRIGGERS.includes(input.trigger)) return fail('invalid_trigger')
    return db.transaction(async (trx) => {
      const from = await CardType.query({ client: trx })
        .where('public_id', input.fromType.toUpperCase())
        .first()
      const to = await CardType.query({ client: trx })
        .where('public_id', input.toType.toUpperCase())
        .first()
      if (!from || !to) return fail('type_not_found')
      if (from.id === to.id) return fail('same_type')
      if (to.isTemporary) return fail('temporary_target')
      const existing = await CardUpgradeRule.query({ client: trx })
        .where('from_type_id', from.id)
        .where('to_type_id', to.id)
        .where('trigger', input.trigger)
        .first()
      if (existing) return fail('duplicate')
      const rule = await CardUpgradeRule.create(
        { fromTypeId: from.id, toTypeId: to.id, trigger: input.trigger, enabled: true },
        { client: trx }
      )
      await recordAudit(
        actor,
        {
          action: 'cards.upgrade_rule_created',
          subjectType: 'card_upgrade_rule',
          subjectId: rule.publicId,
          after: { from: from.code, to: to.code, trigger: input.trigger, enabled: true },
        },
        trx
      )
      return ok(rule)
    })
  }
}

/** Turns an upgrade rule on or off; the nightly job skips rules that are off. */
export class SetUpgradeRuleEnabled {
  async handle(
    input: { rule: string; enabled: boolean },
    actor: AuditActor
  ): Promise<Result<CardUpgradeRule, 'not_found'>> {
    return db.transaction(async (trx) => {
      const rule = await CardUpgradeRule.query({ client: trx })
        .where('public_id', input.rule.toUpperCase())
        .forUpdate()
        .first()
      if (!rule) return fail('not_found')
      const before = { enabled: rule.enabled }
      rule.useTransaction(trx)
      rule.enabled = input.enabled
      await rule.save()
      await recordAudit(
        actor,
        {
          action: input.enabled ? 'cards.upgrade_rule_enabled' : 'cards.upgrade_rule_disabled',
          subjectType: 'card_upgrade_rule',
          subjectId: rule.publicId,
          before,
          after: { enabled: rule.enabled },
        },
        trx
      )
      return ok(rule)
    })
  }
}
