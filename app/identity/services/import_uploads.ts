import { chmod, copyFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import { ok, type Result } from '#core/services/result'
import { enqueue } from '#appliance/services/jobs'
import {
  DEFAULT_LIMITS,
  openSpreadsheet,
  type SpreadsheetError,
  type SpreadsheetLimits,
} from '#identity/services/spreadsheet'
import type { OrgScope } from '#identity/services/org_scope'
import { importKind } from '#identity/services/import_kinds'
import {
  createImportRecord,
  uploadsFolder,
  type ImportKind,
} from '#identity/services/import_records'

export interface UploadInput {
  /** Where the upload lies now (copied, the source is left to its owner). */
  sourcePath: string
  fileName: string
  locale: string
  /** Where the importing account may act; default the whole school. */
  scope?: OrgScope
  limits?: SpreadsheetLimits
}

/**
 * Takes an uploaded spreadsheet of some kind: keeps a private copy in the
 * storage root (uploads/imports/, mode 0600), reads it once and recognises
 * its columns. Files that are not spreadsheets, empty or too large are
 * refused outright; a file whose columns do not fit waits for the user's
 * column mapping; any other is recorded as "checking" and a job runs the
 * dry run of every row. Writes nothing else.
 */
export async function acceptUpload(
  kind: ImportKind,
  input: UploadInput,
  actor: AuditActor
): Promise<Result<string, SpreadsheetError>> {
  const definition = importKind(kind)
  const extension = /\.xlsx$/i.test(input.fileName) ? 'xlsx' : 'csv'
  const storedPath = `${Date.now()}-${randomBytes(8).toString('hex')}.${extension}`
  const target = join(uploadsFolder(), storedPath)
  await copyFile(input.sourcePath, target)
  await chmod(target, 0o600)

  const sheet = await openSpreadsheet(target, input.limits ?? DEFAULT_LIMITS)
  if (!sheet.ok) {
    await rm(target, { force: true })
    return sheet
  }
  const common = {
    kind,
    scope: input.scope ?? null,
    fileName: input.fileName,
    format: sheet.value.format,
    storedPath,
    totalRows: sheet.value.rowCount,
    actor,
    locale: input.locale,
  }
  const { mapping, problem } = definition.mapColumns(sheet.value.headers)
  if (problem) {
    // The upload waits for the user to say what the unrecognised columns hold.
    return ok(
      await createImportRecord({
        ...common,
        status: 'unmapped',
        problem: {
          code: 'columns',
          details: { ...problem, headers: sheet.value.headers, chosen: mapping },
        },
      })
    )
  }
  // The row checks take a while on a large file: a job runs them.
  const publicId = await db.transaction(async (trx) => {
    const id = await createImportRecord({ ...common, status: 'checking', problem: null }, trx)
    await enqueue(definition.checkJob, { importId: id }, { trx, priority: 5 })
    return id
  })
  return ok(publicId)
}
