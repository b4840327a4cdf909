import { fail, ok, type Result } from '#core/services/result'
import { openSpreadsheet } from '#identity/services/spreadsheet'
import type { ImportReport } from '#identity/services/import_columns'
import { importKind } from '#identity/services/import_kinds'
import {
  findImportRecord,
  moveImport,
  recordProgress,
  removeProgress,
  removeUpload,
  uploadPath,
} from '#identity/services/import_records'

/**
 * Runs the dry run of an uploaded file, whatever it imports: "checked" when
 * every row passed (the upload waits for the confirmation), "refused" with
 * the row errors otherwise (the upload is deleted). Nothing is written.
 */
export async function checkUploadedImport(
  publicId: string
): Promise<Result<'checked' | 'refused', 'not_found' | 'not_checking'>> {
  const record = await findImportRecord(publicId)
  if (!record) return fail('not_found')
  if (record.status !== 'checking' || !record.storedPath) return fail('not_checking')
  const sheet = await openSpreadsheet(uploadPath(record.storedPath))
  const result = sheet.ok
    ? await importKind(record.kind).dryRun(sheet.value, record.actor, {
        overrides: record.mapping ?? undefined,
        scope: record.scope ?? undefined,
        onProgress: (done) => recordProgress(record.id, record.publicId, done),
      })
    : null
  const passed = result?.ok === true && result.value.errors.length === 0
  await moveImport(record.id, ['checking'], passed ? 'checked' : 'refused', {
    report: result?.ok ? result.value : null,
    doneRows: result?.ok ? result.value.total : 0,
    finished: !passed,
    storedPath: passed ? undefined : null,
  })
  if (!passed) await removeUpload(record.storedPath)
  await removeProgress(record.publicId)
  return ok(passed ? 'checked' : 'refused')
}

/**
 * Applies a confirmed import: reads its upload again, imports every row or
 * none, stores the outcome on the import and deletes the upload. Rows that
 * became invalid since the dry run (someone changed the registry
 * meanwhile) refuse the import, with the row errors shown as in a dry run.
 */
export async function runImport(
  publicId: string
): Promise<Result<'succeeded' | 'refused', 'not_found' | 'not_queued'>> {
  const record = await findImportRecord(publicId)
  if (!record) return fail('not_found')
  if (!(await moveImport(record.id, ['queued', 'running'], 'running', { doneRows: 0 })))
    return fail('not_queued')
  if (!record.storedPath) {
    await moveImport(record.id, ['running'], 'failed', { finished: true })
    return fail('not_queued')
  }
  const sheet = await openSpreadsheet(uploadPath(record.storedPath))
  if (!sheet.ok) {
    await moveImport(record.id, ['running'], 'failed', { finished: true })
    await removeUpload(record.storedPath)
    return ok('refused')
  }
  const result = await importKind(record.kind).apply(sheet.value, record.actor, {
    overrides: record.mapping ?? undefined,
    scope: record.scope ?? undefined,
    fileName: record.fileName,
    onProgress: (done) => recordProgress(record.id, record.publicId, done),
  })
  const report = result.ok
    ? result.value
    : ((result.details?.report as ImportReport | undefined) ?? null)
  await moveImport(record.id, ['running'], result.ok ? 'succeeded' : 'refused', {
    report,
    doneRows: report?.total ?? 0,
    finished: true,
    storedPath: null,
  })
  await removeUpload(record.storedPath)
  await removeProgress(record.publicId)
  return ok(result.ok ? 'succeeded' : 'refused')
}
