import db from '@adonisjs/lucid/services/db'
import { fail, ok, type Result } from '#core/services/result'
import { enqueue } from '#appliance/services/jobs'
import { importKind } from '#identity/services/import_kinds'
import { findImportRecord, moveImport } from '#identity/services/import_records'

/**
 * Sends a checked import (of people or of org units) to the job queue. The
 * status change and the job are written together, so a second click finds
 * the import already queued.
 */
export class ConfirmImport {
  async handle(publicId: string): Promise<Result<string, 'not_found' | 'not_checked'>> {
    const record = await findImportRecord(publicId)
    if (!record) return fail('not_found')
    const queued = await db.transaction(async (trx) => {
      if (!(await moveImport(record.id, ['checked'], 'queued', {}, trx))) return false
      await enqueue(
        importKind(record.kind).importJob,
        { importId: record.publicId },
        { trx, priority: 5 }
      )
      return true
    })
    return queued ? ok(record.publicId) : fail('not_checked')
  }
}
