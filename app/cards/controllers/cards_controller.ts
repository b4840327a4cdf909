import { DateTime } from 'luxon'
import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { pagerView } from '#core/http/pagination'
import { currentSchool } from '#appliance/services/school_settings'
import CardType from '#cards/models/card_type'
import { FreezeCard } from '#cards/actions/freeze_card'
import { UnfreezeCard } from '#cards/actions/unfreeze_card'
import { RevokeCard } from '#cards/actions/revoke_card'
import { ReissueCard } from '#cards/actions/reissue_card'
import { actionsFor, CARD_STATES, FREEZE_REASONS } from '#cards/services/card_rules'
import { CARDS_PER_PAGE, loadCardPage, searchCards } from '#cards/services/card_directory'
import { cardSample, faceView, stateBadge } from '#cards/services/card_view'
import { formatCardNo } from '#cards/services/card_numbers'
import {
  applyBulk,
  BULK_ACTIONS,
  bulkInlineLimit,
  cardIdsMatching,
} from '#cards/services/card_bulk'
import { activationsPerDay, cardCountsByType } from '#cards/services/card_dashboard'
import { schoolZone } from '#cards/services/school_zone'
import { ExportCards } from '#cards/actions/export_cards'
import { sendFile } from '#identity/controllers/imports_controller'
import {
  bulkValidator,
  exportCardsValidator,
  cardFiltersValidator,
  freezeValidator,
  optionalNoteValidator,
  publicIdParamsValidator,
  requiredNoteValidator,
  withoutBlanks,
} from '#cards/validators/cards'

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

async function cardIdFrom(params: Record<string, unknown>): Promise<string | null> {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  return error ? null : input.publicId
}

/** Maps an action's refusal to a flash message and returns to the card. */
function refused(
  ctx: HttpContext,
  publicId: string,
  error: string,
  details?: Record<string, unknown>
) {
  const { session, response, i18n } = ctx
  if (error === 'not_found') return notFound(ctx)
  const state = typeof details?.from === 'string' ? i18n.t(`cards.states.${details.from}`) : ''
  session.flash('error', i18n.t(`cards.errors.${error}`, { state }))
  return response.redirect(`/console/cards/${publicId}`)
}

function done(ctx: HttpContext, publicId: string, message: string) {
  ctx.session.flash('notice', ctx.i18n.t(message))
  return ctx.response.redirect(`/console/cards/${publicId}`)
}

export default class CardsController {
  /** Every card: search by card number, person number or name; filter by type and state. */
  async index({ request, response, view, bouncer, i18n, session, auth }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const [error, input] = await cardFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('cards.list.invalid_filters'))
      return response.redirect('/console/cards')
    }
    const { page = 1, ...filters } = input
    const paginator = await searchCards(filters, page, CARDS_PER_PAGE)
    const types = await CardType.query().orderBy('sort_order').orderBy('id')
    return view.render('pages/cards/cards/index', {
      cards: paginator.all().map((card) => ({
        card,
        number: formatCardNo(card.cardNo),
        typeName: card.cardType.nameIn(i18n.locale),
        badge: stateBadge(card.state),
      })),
      pager: pagerView(paginator, '/console/cards', filters),
      filters,
      total: paginator.total,
      canWrite: auth.user?.can('cards.write') ?? false,
      bulkActionOptions: BULK_ACTIONS.map((value) => ({
        value,
        label: i18n.t(`cards.bulk.actions.${value}`),
      })),
      freezeReasonOptions: FREEZE_REASONS.map((value) => ({
        value,
        label: i18n.t(`cards.freeze_reasons.${value}`),
      })),
      typeOptions: types.map((type) => ({ value: type.publicId, label: type.nameIn(i18n.locale) })),
      stateOptions: CARD_STATES.map((value) => ({ value, label: i18n.t(`cards.states.${value}`) })),
    })
  }

  /** One card: its face, validity, history, physical cards and the actions its state allows. */
  async show(ctx: HttpContext) {
    const { view, bouncer, i18n, auth } = ctx
    await bouncer.authorize('permit', 'cards.read')
    const publicId = await cardIdFrom(ctx.params)
    const page = publicId ? await loadCardPage(publicId) : null
    if (!page) return notFound(ctx)
    const { card } = page
    const school = await currentSchool()
    const t = i18n.t.bind(i18n)
    const photoUrl =
      card.person.photoPath && auth.user?.can('people.read')
        ? `/console/people/${card.person.publicId}/photo`
        : null
    return view.render('pages/cards/cards/show', {
      ...page,
      number: formatCardNo(card.cardNo),
      typeName: card.cardType.nameIn(i18n.locale),
      badge: stateBadge(card.state),
      actions: actionsFor(card.state),
      boundPhysical: page.physicalCards.find((physical) => physical.state === 'bound') ?? null,
      pastPhysical: page.physicalCards.filter((physical) => physical.state !== 'bound'),
      freezeReasonOptions: FREEZE_REASONS.map((value) => ({
        value,
        label: t(`cards.freeze_reasons.${value}`),
      })),
      face: faceView({
        key: card.publicId,
        type: card.cardType,
        face: card.cardType.face,
        locale: i18n.locale,
        schoolName: school?.name ?? '',
        typeName: card.cardType.nameIn(i18n.locale),
        sample: cardSample(card, {
          validityLabel: (date) => t('cards.face.valid_until', { date }),
          noEnd: t('cards.face.no_end'),
          photoUrl,
        }),
      }),
    })
  }

  async freeze(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'cards.write')
    const publicId = await cardIdFrom(ctx.params)
    if (!publicId) return notFound(ctx)
    const [error, input] = await freezeValidator.tryValidate(ctx.request.all())
    if (error) return refused(ctx, publicId, 'note_required')
    const result = await new FreezeCard().handle(
      { card: { publicId }, by: 'admin', reason: input.reason, note: input.note },
      actorFrom(ctx)
    )
    if (!result.ok) return refused(ctx, publicId, result.error, result.details)
    return done(ctx, publicId, 'cards.actions.frozen')
  }

  async unfreeze(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'cards.write')
    const publicId = await cardIdFrom(ctx.params)
    if (!publicId) return notFound(ctx)
    const [error, input] = await optionalNoteValidator.tryValidate(withoutBlanks(ctx.request.all()))
    if (error) return refused(ctx, publicId, 'note_length')
    const result = await new UnfreezeCard().handle(
      { card: { publicId }, note: input.note },
      actorFrom(ctx)
    )
    if (!result.ok) return refused(ctx, publicId, result.error, result.details)
    return done(ctx, publicId, 'cards.actions.unfrozen')
  }

  async revoke(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'cards.write')
    const publicId = await cardIdFrom(ctx.params)
    if (!publicId) return notFound(ctx)
    const [error, input] = await requiredNoteValidator.tryValidate(ctx.request.all())
    if (error) return refused(ctx, publicId, 'note_required')
    const result = await new RevokeCard().handle(
      { card: { publicId }, note: input.note },
      actorFrom(ctx)
    )
    if (!result.ok) return refused(ctx, publicId, result.error, result.details)
    return done(ctx, publicId, 'cards.actions.revoked')
  }

  async reissue(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'cards.write')
    const publicId = await cardIdFrom(ctx.params)
    if (!publicId) return notFound(ctx)
    const [error, input] = await requiredNoteValidator.tryValidate(ctx.request.all())
    if (error) return refused(ctx, publicId, 'note_required')
    const result = await new ReissueCard().handle(
      { card: { publicId }, note: input.note },
      actorFrom(ctx)
    )
    if (!result.ok) return refused(ctx, publicId, result.error, result.details)
    return done(ctx, result.value.card.publicId, 'cards.actions.reissued')
  }

  /**
   * One action on many cards: the ticked rows, or every card the list's
   * filter selects. Each card goes through its own action (history, audit,
   * blacklist); the page then lists what was done and what was refused.
   */
  async bulk(ctx: HttpContext) {
    const { request, response, session, i18n, view, bouncer } = ctx
    await bouncer.authorize('permit', 'cards.write')
    const form = withoutBlanks(request.all())
    if (typeof form.cards === 'string') form.cards = [form.cards]
    const [error, input] = await bulkValidator.tryValidate(form)
    if (error) {
      session.flash('error', i18n.t('cards.bulk.invalid'))
      return response.redirect('/console/cards')
    }
    const needsNote = input.action !== 'unfreeze'
    if (
      (needsNote && (input.note ?? '').length < 2) ||
      (input.action === 'freeze' && !input.reason)
    ) {
      session.flash('error', i18n.t('cards.errors.note_required'))
      return response.redirect('/console/cards')
    }
    const zone = await schoolZone()
    const until = input.until ? DateTime.fromISO(input.until, { zone }) : undefined
    if (input.action === 'extend' && !until?.isValid) {
      session.flash('error', i18n.t('cards.bulk.until_required'))
      return response.redirect('/console/cards')
    }
    const limit = bulkInlineLimit()
    let ids = input.cards ?? []
    if (ids.length > limit) {
      session.flash('error', i18n.t('cards.bulk.too_many', { limit }))
      return response.redirect('/console/cards')
    }
    if (input.scope === 'filter') {
      const { q, type, state } = input
      const matching = await cardIdsMatching({ q, type, state }, limit)
      if (matching.total > limit) {
        session.flash('error', i18n.t('cards.bulk.too_many', { limit }))
        return response.redirect('/console/cards')
      }
      ids = matching.ids
    }
    if (ids.length === 0) {
      session.flash('error', i18n.t('cards.bulk.none_selected'))
      return response.redirect('/console/cards')
    }
    const report = await applyBulk(
      ids,
      { action: input.action, reason: input.reason, note: input.note, until },
      actorFrom(ctx)
    )
    const t = i18n.t.bind(i18n)
    return view.render('pages/cards/cards/bulk_result', {
      report,
      actionLabel: t(`cards.bulk.actions.${input.action}`),
      skipped: Object.entries(report.skipped).map(([key, count]) => {
        const [code, from] = key.split(':')
        return {
          count,
          label: t(`cards.errors.${code}`, { state: from ? t(`cards.states.${from}`) : '' }),
        }
      }),
      rows: report.outcomes.map((outcome) => ({
        ...outcome,
        number: outcome.cardNo ? formatCardNo(outcome.cardNo) : outcome.publicId,
        message: outcome.ok
          ? t('cards.bulk.row_done')
          : t(`cards.errors.${outcome.error}`, {
              state: outcome.from ? t(`cards.states.${outcome.from}`) : '',
            }),
      })),
    })
  }

  /** The cards of the list's current filters as CSV or XLSX; audited. */
  async export(ctx: HttpContext) {
    const { request, response, bouncer, i18n, session } = ctx
    await bouncer.authorize('permit', 'cards.read')
    const [error, input] = await exportCardsValidator.tryValidate(withoutBlanks(request.all()))
    if (error) {
      session.flash('error', i18n.t('cards.export.invalid'))
      return response.redirect('/console/cards')
    }
    const { format, ...filters } = input
    const { bytes } = await new ExportCards().handle(
      { filters, format, locale: i18n.locale },
      actorFrom(ctx)
    )
    return sendFile(response, bytes, format, 'cards')
  }

  /** Cards by type and state, and activations per day over the last 30 days. */
  async dashboard({ view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const zone = await schoolZone()
    const byType = await cardCountsByType()
    const perDay = await activationsPerDay(zone, 30)
    return view.render('pages/cards/cards/dashboard', {
      zone,
      states: CARD_STATES,
      rows: byType.map(({ type, counts }) => ({
        code: type.code,
        name: type.nameIn(i18n.locale),
        issued: counts.issued,
        states: counts.states,
      })),
      totals: {
        issued: byType.reduce((sum, { counts }) => sum + counts.issued, 0),
        states: Object.fromEntries(
          CARD_STATES.map((state) => [
            state,
            byType.reduce((sum, { counts }) => sum + counts.states[state], 0),
          ])
        ),
      },
      chart: {
        labels: perDay.map(({ day }) => day.slice(5)),
        values: perDay.map(({ count }) => count),
        total: perDay.reduce((sum, { count }) => sum + count, 0),
      },
    })
  }
}
