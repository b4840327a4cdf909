import i18nManager from '@adonisjs/i18n/services/main'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { writeCsv, writeXlsx, type SpreadsheetFormat } from '#identity/services/spreadsheet'
import { schoolZone } from '#cards/services/school_zone'
import { formatCardNo } from '#cards/services/card_numbers'
import { reasonCode } from '#access/services/access_decision'
import { eventsForExport, type EventFilters } from '#access/services/access_event_log'

/** The most rows one export writes. */
export const MAX_EXPORT_ROWS = 100_000

const COLUMNS = [
  'occurred_at',
  'person',
  'person_no',
  'card_no',
  'zone',
  'point',
  'direction',
  'credential',
  'outcome',
  'reason',
  'mode',
  'terminal',
] as const

/**
 * Writes the access events matching the log's filters as CSV (UTF-8 with
 * BOM) or XLSX, times in the school's time zone. Every export is audited
 * with its filters, format and size.
 */
export class ExportAccessEvents {
  async handle(
    input: { filters: EventFilters; format: SpreadsheetFormat; locale: string },
    actor: AuditActor
  ): Promise<{ bytes: Buffer; count: number }> {
    const i18n = i18nManager.locale(input.locale)
    const zone = await schoolZone()
    const events = await eventsForExport(input.filters, zone, MAX_EXPORT_ROWS)
    const headers = COLUMNS.map((column) => i18n.t(`access.export.columns.${column}`))
    const rows = events.map((event) => {
      const code = reasonCode(event.reason)
      const detail = event.reason.slice(code.length + 1)
      return [
        event.occurredAt.setZone(zone).toFormat('yyyy-MM-dd HH:mm:ss'),
        event.personName ?? '',
        event.personNo ?? '',
        event.cardNo ? formatCardNo(event.cardNo) : (event.uid ?? ''),
        event.zoneName ?? '',
        event.pointName ?? '',
        event.direction ? i18n.t(`access.directions.${event.direction}`) : '',
        i18n.t(`access.credentials.${event.credential}`),
        i18n.t(event.allowed ? 'access.events.allowed' : 'access.events.denied'),
        i18n.t(`access.reasons.${code}`) + (detail ? ` (${detail})` : ''),
        i18n.t(`access.modes.${event.mode}`),
        event.terminalName ?? '',
      ]
    })
    const bytes =
      input.format === 'csv'
        ? writeCsv(headers, rows)
        : await writeXlsx('access events', headers, rows)
    await recordAudit(actor, {
      action: 'access.events_exported',
      subjectType: 'access_event',
      meta: { filters: input.filters, format: input.format, count: rows.length },
    })
    return { bytes, count: rows.length }
  }
}
