import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { sendFile } from '#identity/controllers/imports_controller'
import { withoutBlanks } from '#ledger/validators/ledger'
import { exportReport } from '#reports/actions/export_report'
import {
  reportRange,
  spendingReport,
  subsidiesReport,
  topUpsReport,
} from '#reports/services/finance_reports'
import { reportZone } from '#reports/services/periods'
import { exportValidator, rangeValidator } from '#reports/validators/reports'

/** Amounts drawn in charts, in yuan: a chart only draws them, no sum is made of them. */
const yuan = (fen: number) => fen / 100

/** The finance reports (/console/reports): top-ups, subsidies, spending; charts and exports. */
export default class FinanceReportsController {
  async index(ctx: HttpContext) {
    const { request, view, bouncer, i18n, session, response } = ctx
    await bouncer.authorize('permit', 'finance.reports')
    const [error, input] = await rangeValidator.tryValidate(withoutBlanks(request.qs()))
    const zone = await reportZone()
    const range = error ? null : reportRange(zone, input.from, input.to)
    if (!range || !range.ok) {
      session.flash(
        'error',
        i18n.t(`reports.finance.${range && !range.ok ? range.error : 'invalid_range'}`)
      )
      return response.redirect('/console/reports')
    }
    const t = i18n.t.bind(i18n)
    const topUps = await topUpsReport(range.value)
    const subsidies = await subsidiesReport(range.value)
    const spending = await spendingReport(range.value, i18n.locale)
    const labels = range.value.days.map((day) => day.slice(5))
    const channelLabel = (channel: string) => t(`reports.channels.${channel}`, {}, channel)
    return view.render('pages/reports/finance', {
      range: range.value,
      topUps,
      subsidies,
      spending,
      channelLabel,
      charts: {
        topUps: {
          labels,
          series: topUps.channels.map((channel, index) => ({
            label: channelLabel(channel),
            values: topUps.days.map((day) => yuan(day.cells[index].amount)),
          })),
        },
        subsidies: {
          labels,
          series: subsidies.columns.map((column, index) => ({
            label: t(`reports.subsidies.${column}`),
            values: subsidies.days.map((day) => yuan(day.cells[index].amount)),
          })),
        },
        spending: {
          labels: spending.byCategory.map((entry) =>
            t(`reports.categories.${entry.category}`, {}, entry.category)
          ),
          series: [
            {
              label: t('reports.columns.net'),
              values: spending.byCategory.map((entry) => yuan(entry.takings.net)),
            },
          ],
        },
      },
    })
  }

  async export(ctx: HttpContext) {
    const { request, response, bouncer, i18n, session } = ctx
    await bouncer.authorize('permit', 'finance.reports')
    const [error, input] = await exportValidator.tryValidate(withoutBlanks(request.qs()))
    const zone = await reportZone()
    const range = error ? null : reportRange(zone, input.from, input.to)
    if (error || !range || !range.ok) {
      session.flash('error', i18n.t('reports.finance.invalid_range'))
      return response.redirect('/console/reports')
    }
    const { bytes, name } = await exportReport(
      { section: input.section, format: input.format, range: range.value, locale: i18n.locale },
      actorFrom(ctx)
    )
    return sendFile(response, bytes, input.format, name)
  }
}
