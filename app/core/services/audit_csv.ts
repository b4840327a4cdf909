import type AuditEntry from '#core/models/audit_entry'
import { auditEntryBatches, type AuditFilters } from '#core/services/audit_search'

/** Byte order mark: without it, Excel set up for Chinese reads UTF-8 as GBK. */
export const UTF8_BOM = '\uFEFF'

/** Looks up a translation; returns `fallback` when the key has none. */
export type Translate = (key: string, data?: Record<string, unknown>, fallback?: string) => string

/**
 * One CSV cell (RFC 4180). A cell that a spreadsheet would run as a formula
 * (=, +, -, @, tab, CR at the start) gets a leading apostrophe: a failed
 * sign-in writes attacker-chosen text into the log, and opening the export
 * must not execute it.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  let text = String(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvLine(values: unknown[]): string {
  return values.map(csvCell).join(',') + '\r\n'
}

const COLUMNS = [
  'seq',
  'time',
  'actor_type',
  'actor_id',
  'actor_name',
  'ip',
  'user_agent',
  'action',
  'action_label',
  'subject_type',
  'subject_id',
  'outcome',
  'before',
  'after',
  'meta',
  'prev_hash',
  'hash',
] as const

/** The label of an action in the reader's language, or the raw action when none exists. */
export function actionLabel(t: Translate, action: string): string {
  return t(`audit.actions.${action}`, {}, action)
}

function row(entry: AuditEntry, t: Translate, zone: string) {
  return csvLine([
    entry.seq,
    entry.occurredAt.setZone(zone).toFormat('yyyy-MM-dd HH:mm:ss'),
    t(`audit.actor_types.${entry.actorType}`, {}, entry.actorType),
    entry.actorId,
    entry.actorName,
    entry.ip,
    entry.userAgent,
    entry.action,
    actionLabel(t, entry.action),
    entry.subjectType,
    entry.subjectId,
    t(`audit.outcomes.${entry.outcome}`, {}, entry.outcome),
    entry.before,
    entry.after,
    entry.meta,
    entry.prevHash,
    entry.hash,
  ])
}

/**
 * The CSV export as a sequence of text chunks: BOM and translated header
 * first, then one chunk per database batch, newest entry first. Nothing
 * holds more than one batch, so a million-row export streams in flat memory.
 */
export async function* auditCsvChunks(
  filters: AuditFilters,
  options: { zone: string; upToSeq: number; t: Translate; batchSize?: number }
): AsyncGenerator<string> {
  const { zone, t } = options
  yield UTF8_BOM + csvLine(COLUMNS.map((column) => t(`audit.csv.${column}`, { zone }, column)))
  for await (const batch of auditEntryBatches(filters, zone, options.upToSeq, options.batchSize)) {
    yield batch.map((entry) => row(entry, t, zone)).join('')
  }
}
