import { recordAudit, type AuditActor } from '#core/services/audit'
import { auditCsvChunks, type Translate } from '#core/services/audit_csv'
import type { AuditFilters } from '#core/services/audit_search'

/**
 * Exports the audit log as CSV. The export is itself an audited act: the
 * entry is written before the first byte leaves, so an interrupted download
 * is still on record. The file holds the entries that existed at that
 * moment (those before the export's own entry), whatever is appended while
 * it streams.
 */
export class ExportAuditLog {
  async handle(
    filters: AuditFilters,
    actor: AuditActor,
    options: { zone: string; t: Translate; batchSize?: number }
  ) {
    const entry = await recordAudit(actor, {
      action: 'audit.exported',
      outcome: 'success',
      meta: { format: 'csv', filters, timeZone: options.zone },
    })
    const chunks = auditCsvChunks(filters, {
      zone: options.zone,
      t: options.t,
      upToSeq: Number(entry.seq) - 1,
      batchSize: options.batchSize,
    })
    return { entry, chunks }
  }
}
