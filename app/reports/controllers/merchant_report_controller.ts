import type { HttpContext } from '@adonisjs/core/http'
import { merchantForReportToken } from '#reports/actions/report_links'
import { merchantReport } from '#reports/services/merchant_report'
import { reportZone } from '#reports/services/periods'

/**
 * The mobile merchant report (移动报表), /merchant-report/:token: a shop
 * owner's view of today's and recent days' sales per shop, opened with the
 * merchant's secret link. A wrong or replaced token is a plain 404.
 */
export default class MerchantReportController {
  async show(ctx: HttpContext) {
    const { params, view, response, i18n } = ctx
    response.header('cache-control', 'no-store')
    response.header('referrer-policy', 'no-referrer')
    response.header('x-robots-tag', 'noindex')
    const merchant = await merchantForReportToken(params.token)
    if (!merchant) {
      response.status(404)
      return view.render('pages/errors/status', { status: 404 })
    }
    const zone = await reportZone()
    const report = await merchantReport(merchant, zone, i18n.locale)
    return view.render('pages/reports/merchant_report', {
      merchant,
      merchantName: merchant.nameIn(i18n.locale),
      report,
      zone,
    })
  }
}
