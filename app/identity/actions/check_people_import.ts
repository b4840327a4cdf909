import type { AuditActor } from '#core/services/audit'
import type { Result } from '#core/services/result'
import type { SpreadsheetError } from '#identity/services/spreadsheet'
import { acceptUpload, type UploadInput } from '#identity/services/import_uploads'

export type CheckImportInput = UploadInput

/**
 * Takes an uploaded people spreadsheet and starts its dry run (or waits for
 * a column mapping). Rows whose org unit, or whose person's current unit,
 * lies outside `scope` will be refused row by row. Writes no person.
 */
export class CheckPeopleImport {
  handle(input: CheckImportInput, actor: AuditActor): Promise<Result<string, SpreadsheetError>> {
    return acceptUpload('people', input, actor)
  }
}
