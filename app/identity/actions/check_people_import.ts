import { chmod, copyFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { AuditActor } from '#core/services/audit'
import { ok, type Result } from '#core/services/result'
import {
  DEFAULT_LIMITS,
  readSpreadsheet,
  type SpreadsheetError,
  type SpreadsheetLimits,
} from '#identity/services/spreadsheet'
import db from '@adonisjs/lucid/services/db'
import { enqueue } from '#appliance/services/jobs'
import { mapColumns } from '#identity/services/import_people'
import { checkPeopleImportJob } from '#identity/services/import_jobs'
import { createImportRecord, uploadsFolder } from '#identity/services/import_records'

export interface CheckImportInput {
  /** Where the upload lies now (copied, the source is left to its owner). */
  sourcePath: string
  fileName: string
  locale: string
  limits?: SpreadsheetLimits
}

/**
 * Takes an uploaded people spreadsheet: keeps a private copy in the storage
 * root (uploads/imports/, mode 0600), reads it and recognises its columns.
 * Files that are not spreadsheets, empty or too large are refused outright;
 * a file whose columns do not fit waits for the user's column mapping; any other
 * is recorded as "checking" and a job runs the dry run of every row.
 * Writes no person.
 */
export class CheckPeopleImport {
  async handle(
    input: CheckImportInput,
    actor: AuditActor
  ): Promise<Result<string, SpreadsheetError>> {
    const extension = /\.xlsx$/i.test(input.fileName) ? 'xlsx' : 'csv'
    const storedPath = `${Date.now()}-${randomBytes(8).toString('hex')}.${extension}`
    const target = join(uploadsFolder(), storedPath)
    await copyFile(input.sourcePath, target)
    await chmod(target, 0o600)

    const sheet = await readSpreadsheet(target, input.limits ?? DEFAULT_LIMITS)
    if (!sheet.ok) {
      await rm(target, { force: true })
      return sheet
    }
    const { mapping, problem } = mapColumns(sheet.value.headers)
    if (problem) {
      // The upload waits for the user to say what the unrecognised columns hold.
      return ok(
        await createImportRecord({
          status: 'unmapped',
          fileName: input.fileName,
          format: sheet.value.format,
          storedPath,
          totalRows: sheet.value.rows.length,
          problem: {
            code: 'columns',
            details: { ...problem, headers: sheet.value.headers, chosen: mapping },
          },
          actor,
          locale: input.locale,
        })
      )
    }
    // The row checks take a while on a large file: a job runs them.
    const publicId = await db.transaction(async (trx) => {
      const id = await createImportRecord(
        {
          status: 'checking',
          fileName: input.fileName,
          format: sheet.value.format,
          storedPath,
          totalRows: sheet.value.rows.length,
          problem: null,
          actor,
          locale: input.locale,
        },
        trx
      )
      await enqueue(checkPeopleImportJob, { importId: id }, { trx, priority: 5 })
      return id
    })
    return ok(publicId)
  }
}
