import { recordAudit, type AuditActor } from '#core/services/audit'
import type { PeopleFilters } from '#identity/services/people_directory'
import { exportPeopleRows } from '#identity/services/export_people'
import { writeCsv, writeXlsx, type SpreadsheetFormat } from '#identity/services/spreadsheet'

export interface ExportPeopleInput {
  filters: PeopleFilters
  format: SpreadsheetFormat
  locale: string
  /** Full phone and ID numbers; the caller checks the people.reveal_pii permission. */
  revealPii: boolean
}

/**
 * Writes the people matching the list's filters as CSV (UTF-8 with BOM) or
 * XLSX, in the columns of the import template. Every export is audited
 * with its filters, its size and whether personal numbers were revealed.
 */
export class ExportPeople {
  async handle(
    input: ExportPeopleInput,
    actor: AuditActor
  ): Promise<{ bytes: Buffer; count: number }> {
    const { headers, rows } = await exportPeopleRows(input.filters, {
      locale: input.locale,
      revealPii: input.revealPii,
    })
    const bytes =
      input.format === 'csv' ? writeCsv(headers, rows) : await writeXlsx('people', headers, rows)
    await recordAudit(actor, {
      action: input.revealPii ? 'people.exported_with_pii' : 'people.exported',
      subjectType: 'person',
      meta: { filters: input.filters, format: input.format, count: rows.length },
    })
    return { bytes, count: rows.length }
  }
}
