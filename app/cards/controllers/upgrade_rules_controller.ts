import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { CreateUpgradeRule, SetUpgradeRuleEnabled } from '#cards/actions/save_upgrade_rule'
import { publicIdParamsValidator, upgradeRuleValidator } from '#cards/validators/cards'

const BACK = '/console/card-types#upgrades'

export default class UpgradeRulesController {
  /** Adds an upgrade rule (student → alumni at graduation). */
  async store(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'card_types.manage')
    const [error, input] = await upgradeRuleValidator.tryValidate(request.all())
    if (error) {
      session.flash('error', i18n.t('cards.upgrades.invalid'))
      return response.redirect(BACK)
    }
    const result = await new CreateUpgradeRule().handle(input, actorFrom(ctx))
    session.flash(
      result.ok ? 'notice' : 'error',
      i18n.t(result.ok ? 'cards.upgrades.created' : `cards.errors.${result.error}`)
    )
    return response.redirect(BACK)
  }

  async enable(ctx: HttpContext) {
    return setEnabled(ctx, true)
  }

  async disable(ctx: HttpContext) {
    return setEnabled(ctx, false)
  }
}

async function setEnabled(ctx: HttpContext, enabled: boolean) {
  const { params, response, session, i18n, bouncer } = ctx
  await bouncer.authorize('permit', 'card_types.manage')
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return response.notFound()
  const result = await new SetUpgradeRuleEnabled().handle(
    { rule: input.publicId, enabled },
    actorFrom(ctx)
  )
  if (!result.ok) return response.notFound()
  session.flash('notice', i18n.t(enabled ? 'cards.upgrades.enabled' : 'cards.upgrades.disabled'))
  return response.redirect(BACK)
}
