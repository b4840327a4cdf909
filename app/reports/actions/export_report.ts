import i18nManager from '@adonisjs/i18n/services/main'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { writeCsv, writeXlsx, type SpreadsheetFormat } from '#identity/services/spreadsheet'
import { Money } from '#ledger/services/money'
import {
  spendingReport,
  subsidiesReport,
  topUpsReport,
  type ReportRange,
} from '#reports/services/finance_reports'

export type ReportSection = 'top_ups' | 'subsidies' | 'spending'

/** Amounts in exports are plain decimals of yuan ("12.50"): numbers a spreadsheet can add. */
function yuan(fen: number) {
  return Money.ofFen(fen).toDecimal()
}

/**
 * One section of the finance reports as CSV (UTF-8 with BOM) or XLSX, with
 * headers in the reader's language; audited with its range and size.
 */
export async function exportReport(
  input: { section: ReportSection; format: SpreadsheetFormat; range: ReportRange; locale: string },
  actor: AuditActor
): Promise<{ bytes: Buffer; name: string; count: number }> {
  const i18n = i18nManager.locale(input.locale)
  const t = (key: string) => i18n.t(`reports.${key}`)
  const { range } = input
  let headers: string[]
  let rows: string[][]
  if (input.section === 'top_ups') {
    const report = await topUpsReport(range)
    headers = [t('columns.day'), t('columns.channel'), t('columns.count'), t('columns.amount')]
    rows = report.days.flatMap((day) =>
      report.channels.map((channel, index) => [
        day.day,
        i18n.t(`reports.channels.${channel}`, {}, channel),
        String(day.cells[index].count),
        yuan(day.cells[index].amount),
      ])
    )
  } else if (input.section === 'subsidies') {
    const report = await subsidiesReport(range)
    headers = [t('columns.day'), ...report.columns.map((column) => t(`subsidies.${column}`))]
    rows = report.days.map((day) => [day.day, ...day.cells.map((cell) => yuan(cell.amount))])
  } else {
    const report = await spendingReport(range, input.locale)
    headers = [
      t('columns.merchant_code'),
      t('columns.merchant'),
      t('columns.category'),
      t('columns.payments_count'),
      t('columns.payments_amount'),
      t('columns.refunds_count'),
      t('columns.refunds_amount'),
      t('columns.net'),
    ]
    rows = report.byMerchant.map((entry) => [
      entry.code,
      entry.name,
      i18n.t(`reports.categories.${entry.category}`, {}, entry.category),
      String(entry.takings.paymentsCount),
      yuan(entry.takings.paymentsAmount),
      String(entry.takings.refundsCount),
      yuan(entry.takings.refundsAmount),
      yuan(entry.takings.net),
    ])
  }
  const sheet = `${input.section}`
  const bytes =
    input.format === 'csv' ? writeCsv(headers, rows) : await writeXlsx(sheet, headers, rows)
  await recordAudit(actor, {
    action: 'reports.exported',
    meta: {
      section: input.section,
      format: input.format,
      from: range.first,
      to: range.last,
      count: rows.length,
    },
  })
  return { bytes, name: `${input.section}-${range.first}-${range.last}`, count: rows.length }
}
