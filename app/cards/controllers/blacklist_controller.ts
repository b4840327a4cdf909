import type { HttpContext } from '@adonisjs/core/http'
import { pagerView } from '#core/http/pagination'
import { currentBlacklistVersion, listBlacklist } from '#cards/services/blacklist'
import { formatCardNo } from '#cards/services/card_numbers'
import { blacklistFiltersValidator, withoutBlanks } from '#cards/validators/cards'

export default class BlacklistController {
  /** The blacklist terminals sync: current and past entries, with the current version. */
  async index({ request, response, view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const [error, input] = await blacklistFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('cards.list.invalid_filters'))
      return response.redirect('/console/card-blacklist')
    }
    const { page = 1, ...filters } = input
    const { paginator, rows } = await listBlacklist(filters, page)
    return view.render('pages/cards/blacklist/index', {
      rows: rows.map((row) => ({ ...row, number: row.cardNo ? formatCardNo(row.cardNo) : null })),
      pager: pagerView(paginator, '/console/card-blacklist', filters),
      filters,
      version: await currentBlacklistVersion(),
      kindOptions: [
        { value: 'card', label: i18n.t('cards.blacklist.kinds.card') },
        { value: 'physical', label: i18n.t('cards.blacklist.kinds.physical') },
        { value: 'device', label: i18n.t('cards.blacklist.kinds.device') },
      ],
      listedOptions: [
        { value: 'current', label: i18n.t('cards.blacklist.listed.current') },
        { value: 'removed', label: i18n.t('cards.blacklist.listed.removed') },
      ],
    })
  }
}
