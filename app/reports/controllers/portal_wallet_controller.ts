import type { HttpContext } from '@adonisjs/core/http'
import { pagerView } from '#core/http/pagination'
import { transferKindLabel } from '#ledger/services/ledger_labels'
import { monthWindow, reportZone } from '#reports/services/periods'
import { walletBalances, walletStatement } from '#reports/services/wallet_report'
import { walletQueryValidator } from '#reports/validators/reports'
import { withoutBlanks } from '#ledger/validators/ledger'
import { DateTime } from 'luxon'

/** The portal's wallet page (/portal/wallet, 我的钱包): balances and the statement. */
export default class PortalWalletController {
  async show(ctx: HttpContext) {
    const { request, view, i18n, session, response } = ctx
    const { person } = ctx.portal!
    const [error, input] = await walletQueryValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('reports.wallet.invalid_filter'))
      return response.redirect('/portal/wallet')
    }
    const zone = await reportZone()
    const window = input.month ? monthWindow(input.month, zone) : null
    const balances = await walletBalances(person.id)
    const { paginator, lines } = await walletStatement(
      balances.accountIds,
      input.page ?? 1,
      window,
      i18n.locale
    )
    const t = i18n.t.bind(i18n)
    const thisMonth = DateTime.now().setZone(zone).startOf('month')
    return view.render('pages/reports/portal_wallet', {
      balances,
      month: input.month ?? '',
      months: Array.from({ length: 12 }, (_, index) =>
        thisMonth.minus({ months: index }).toFormat('yyyy-MM')
      ),
      lines: lines.map((line) => ({
        ...line,
        time: line.bookedAt.setZone(zone).toFormat('yyyy-MM-dd HH:mm'),
        kindLabel: transferKindLabel(line.kind, t),
        walletLabel: t(`reports.wallet.kinds.${line.accountKind}`, {}, line.accountKind),
      })),
      pager: pagerView(paginator, '/portal/wallet', { month: input.month }),
    })
  }
}
