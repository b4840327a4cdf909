import type { AuditActor } from '#core/services/audit'
import type { Result } from '#core/services/result'
import type { SpreadsheetError } from '#identity/services/spreadsheet'
import { acceptUpload, type UploadInput } from '#identity/services/import_uploads'

/**
 * Takes an uploaded org-unit spreadsheet and starts its dry run (or waits
 * for a column mapping). Rows whose parent, or whose existing unit, lies
 * outside `scope` will be refused row by row. Writes no unit.
 */
export class CheckOrgUnitImport {
  handle(input: UploadInput, actor: AuditActor): Promise<Result<string, SpreadsheetError>> {
    return acceptUpload('org_units', input, actor)
  }
}
