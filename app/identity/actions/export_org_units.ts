import { recordAudit, type AuditActor } from '#core/services/audit'
import type { OrgScope } from '#identity/services/org_scope'
import { exportOrgUnitRows } from '#identity/services/export_org_units'
import { writeCsv, writeXlsx, type SpreadsheetFormat } from '#identity/services/spreadsheet'

export interface ExportOrgUnitsInput {
  format: SpreadsheetFormat
  locale: string
  /** Only the units inside it; default the whole school. */
  scope?: OrgScope
}

/**
 * Writes the organization tree as CSV (UTF-8 with BOM) or XLSX in the
 * columns of the import template, parents before children. Audited with
 * its format and size.
 */
export class ExportOrgUnits {
  async handle(
    input: ExportOrgUnitsInput,
    actor: AuditActor
  ): Promise<{ bytes: Buffer; count: number }> {
    const { headers, rows } = await exportOrgUnitRows({
      locale: input.locale,
      scope: input.scope,
    })
    const bytes =
      input.format === 'csv' ? writeCsv(headers, rows) : await writeXlsx('org_units', headers, rows)
    await recordAudit(actor, {
      action: 'org.units_exported',
      subjectType: 'org_unit',
      meta: { format: input.format, count: rows.length },
    })
    return { bytes, count: rows.length }
  }
}
