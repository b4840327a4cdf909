import db from '@adonisjs/lucid/services/db'
import { fail, ok, type Result } from '#core/services/result'
import { enqueue } from '#appliance/services/jobs'
import { importKind } from '#identity/services/import_kinds'
import {
  chooseMapping,
  findImportRecord,
  recordMappingProblem,
} from '#identity/services/import_records'

/** What the user chose for a column: a column key, or "ignore". */
export type ColumnChoice = string

/**
 * Applies the user's column mapping to an upload whose headers were not all
 * recognised. When every required field has exactly one column, the dry
 * run is queued; otherwise the import keeps waiting, showing what is still
 * missing or chosen twice.
 */
export class MapImport {
  async handle(
    publicId: string,
    choices: ColumnChoice[]
  ): Promise<Result<string, 'not_found' | 'not_unmapped' | 'columns'>> {
    const record = await findImportRecord(publicId)
    if (!record) return fail('not_found')
    if (record.status !== 'unmapped') return fail('not_unmapped')
    const definition = importKind(record.kind)
    const headers = (record.problem?.details?.headers ?? []) as string[]
    const keys = new Set(definition.columns.map((column) => column.key))
    const overrides: Record<number, string> = {}
    headers.forEach((_, index) => {
      const choice = choices[index]
      overrides[index] = choice && keys.has(choice) ? choice : ''
    })
    const { mapping, problem } = definition.mapColumns(headers, overrides)
    if (problem) {
      await recordMappingProblem(record.id, {
        code: 'columns',
        details: { ...problem, unknown: [], headers, chosen: mapping },
      })
      return fail('columns')
    }
    const queued = await db.transaction(async (trx) => {
      if (!(await chooseMapping(record.id, overrides, trx))) return false
      await enqueue(definition.checkJob, { importId: record.publicId }, { trx, priority: 5 })
      return true
    })
    return queued ? ok(record.publicId) : fail('not_unmapped')
  }
}
