import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { BindPhysicalCard } from '#cards/actions/bind_physical_card'
import { UnbindPhysicalCard } from '#cards/actions/unbind_physical_card'
import { ReportPhysicalCardLost } from '#cards/actions/report_physical_card_lost'
import { MarkPhysicalCardFound } from '#cards/actions/mark_physical_card_found'
import PhysicalCard from '#cards/models/physical_card'
import {
  bindPhysicalValidator,
  publicIdParamsValidator,
  uidValidator,
} from '#cards/validators/cards'

function back(ctx: HttpContext, cardPublicId: string, kind: 'notice' | 'error', message: string) {
  ctx.session.flash(kind, ctx.i18n.t(message))
  return ctx.response.redirect(`/console/cards/${cardPublicId}`)
}

/** The physical card named in the URL, with its card, or null. */
async function physicalFrom(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return PhysicalCard.query().where('public_id', input.publicId).preload('card').first()
}

export default class PhysicalCardsController {
  /** Binds a physical card by its UID to the card in the URL. */
  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'cards.write')
    const [error, params] = await publicIdParamsValidator.tryValidate(ctx.params)
    if (error) return ctx.response.notFound()
    const [invalid, input] = await bindPhysicalValidator.tryValidate(ctx.request.all())
    if (invalid) return back(ctx, params.publicId, 'error', 'cards.errors.uid_invalid')
    const result = await new BindPhysicalCard().handle(
      { card: { publicId: params.publicId }, uid: input.uid },
      actorFrom(ctx)
    )
    if (!result.ok) {
      if (result.error === 'not_found') return ctx.response.notFound()
      return back(ctx, params.publicId, 'error', `cards.errors.${result.error}`)
    }
    return back(ctx, params.publicId, 'notice', 'cards.physical.bound')
  }

  async unbind(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'cards.write')
    const physical = await physicalFrom(ctx.params)
    if (!physical) return ctx.response.notFound()
    const result = await new UnbindPhysicalCard().handle(
      { physical: { publicId: physical.publicId } },
      actorFrom(ctx)
    )
    if (!result.ok)
      return back(ctx, physical.card.publicId, 'error', `cards.errors.${result.error}`)
    return back(ctx, physical.card.publicId, 'notice', 'cards.physical.unbound')
  }

  async lost(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'cards.write')
    const physical = await physicalFrom(ctx.params)
    if (!physical) return ctx.response.notFound()
    const result = await new ReportPhysicalCardLost().handle(
      { physical: { publicId: physical.publicId } },
      actorFrom(ctx)
    )
    if (!result.ok)
      return back(ctx, physical.card.publicId, 'error', `cards.errors.${result.error}`)
    return back(ctx, physical.card.publicId, 'notice', 'cards.physical.lost')
  }

  /** A lost physical card turned up (from the blacklist page, by UID). */
  async found(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'cards.write')
    const [error, input] = await uidValidator.tryValidate(request.all())
    const result = error
      ? null
      : await new MarkPhysicalCardFound().handle({ physical: { uid: input.uid } }, actorFrom(ctx))
    session.flash(
      result?.ok ? 'notice' : 'error',
      i18n.t(result?.ok ? 'cards.physical.found' : `cards.errors.${result?.error ?? 'uid_invalid'}`)
    )
    return response.redirect('/console/card-blacklist')
  }
}
