import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { pagerView } from '#core/http/pagination'
import { schoolTimeZone } from '#appliance/services/school_settings'
import { formatCardNo } from '#cards/services/card_numbers'
import { stateBadge } from '#cards/services/card_view'
import { scannedText, verifyCampusCode } from '#cards/services/code_verification'
import { listReplays } from '#cards/services/replay_store'
import { withoutBlanks } from '#cards/validators/cards'
import { codeVerifyValidator, replayFiltersValidator } from '#cards/validators/code_verify'

/** What the verify page shows of the last scan (kept in the session for one request). */
interface ScanView {
  ok: boolean
  error: string | null
  reason: string
  number: string | null
  holder: {
    cardPublicId: string
    name: string
    personNo: string
    org: string | null
    typeName: string
    state: string
    stateLabel: string
    badge: string
    photoUrl: string | null
  } | null
  replays: number | null
  froze: boolean
}

export default class CodeVerifyController {
  /** The scan-to-verify page: a field a USB scanner types into, and the last result. */
  async show({ view, bouncer, session }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const scan = (session.flashMessages.get('codeScan') as ScanView | undefined) ?? null
    return view.render('pages/cards/verify', { scan })
  }

  /**
   * Verifies a scanned code as the server does for any verifier: accepted
   * codes are used up, and a code scanned again is a replay.
   */
  async verify(ctx: HttpContext) {
    const { request, response, bouncer, session, auth, i18n } = ctx
    await bouncer.authorize('permit', 'cards.read')
    const user = auth.getUserOrFail()
    const [invalid, input] = await codeVerifyValidator.tryValidate({
      code: request.input('code') ?? '',
    })
    const text = invalid ? '' : scannedText(input.code)
    const { result, cardNo, holder, replay } = await verifyCampusCode(text, {
      verifier: `console:${user.username}`,
      actor: actorFrom(ctx),
    })
    const error = result.ok ? null : result.error
    const scan: ScanView = {
      ok: result.ok,
      error,
      reason: i18n.t(`code_verify.errors.${error ?? 'none'}`),
      number: cardNo ? formatCardNo(cardNo) : null,
      holder: holder
        ? {
            cardPublicId: holder.cardPublicId,
            name: holder.personName,
            personNo: holder.personNo,
            org: holder.orgName,
            typeName: i18n.locale.startsWith('zh') ? holder.cardTypeNameZh : holder.cardTypeNameEn,
            state: holder.cardState,
            stateLabel: i18n.t(`cards.states.${holder.cardState}`),
            badge: stateBadge(holder.cardState),
            photoUrl:
              holder.photoPath && user.can('people.read')
                ? `/console/people/${holder.personPublicId}/photo`
                : null,
          }
        : null,
      replays: replay?.recentReplays ?? null,
      froze: replay?.froze ?? false,
    }
    session.flash('codeScan', scan)
    return response.redirect('/console/card-verify')
  }

  /** Codes presented again: when, where, whose, and whether the card was frozen for it. */
  async replays({ request, response, view, bouncer, session, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const [error, input] = await replayFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('code_verify.replays.invalid_filters'))
      return response.redirect('/console/card-replays')
    }
    const { page = 1, ...filters } = input
    const { paginator, rows } = await listReplays(filters, page, schoolTimeZone())
    return view.render('pages/cards/replays', {
      rows: rows.map((row) => ({ ...row, number: formatCardNo(row.cardNo) })),
      pager: pagerView(paginator, '/console/card-replays', filters),
      filters,
    })
  }
}
