import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import {
  auditJson,
  entryHash,
  type AuditActor,
  type AuditEvent,
  type ChainedFields,
} from '#core/services/audit'

/** Audit entries per multi-row INSERT (16 columns each, well inside SQLite's variable limit). */
const INSERT_ROWS = 200

/**
 * Appends many entries to the audit log at once, chained exactly as
 * `recordAudit` chains one (same fields, same hash, consecutive sequence
 * numbers), with four statements instead of four per entry. An import that
 * creates 50,000 people writes 50,000 entries; one by one they would take
 * longer than the import itself.
 *
 * The chain head is bumped by the number of entries first, which takes the
 * same row lock (PostgreSQL) or write lock (SQLite) as a single append, so
 * concurrent writers still take turns and the chain never forks.
 */
export async function recordAuditBatch(
  actor: AuditActor,
  events: AuditEvent[],
  trx: TransactionClientContract
): Promise<void> {
  if (events.length === 0) return
  await trx.from('audit_heads').where('id', 1).increment('seq', events.length)
  const head = await trx.from('audit_heads').where('id', 1).select('seq', 'hash').firstOrFail()
  const occurredAt = DateTime.utc().set({ millisecond: 0 })
  const time = occurredAt.toFormat(trx.dialect.dateTimeFormat)
  let seq = Number(head.seq) - events.length
  let prevHash: string = head.hash
  const rows: Record<string, unknown>[] = []
  for (const event of events) {
    const fields: ChainedFields = {
      seq: ++seq,
      occurredAt,
      actorType: actor.type,
      actorId: actor.id ?? null,
      actorName: actor.name ?? null,
      ip: actor.ip ?? null,
      userAgent: actor.userAgent ? actor.userAgent.slice(0, 255) : null,
      action: event.action,
      subjectType: event.subjectType ?? null,
      subjectId: event.subjectId ?? null,
      outcome: event.outcome ?? 'success',
      before: auditJson(event.before),
      after: auditJson(event.after),
      meta: auditJson(event.meta),
      prevHash,
    }
    const hash = entryHash(fields)
    rows.push({
      seq: fields.seq,
      occurred_at: time,
      actor_type: fields.actorType,
      actor_id: fields.actorId,
      actor_name: fields.actorName,
      ip: fields.ip,
      user_agent: fields.userAgent,
      action: fields.action,
      subject_type: fields.subjectType,
      subject_id: fields.subjectId,
      outcome: fields.outcome,
      before: fields.before,
      after: fields.after,
      meta: fields.meta,
      prev_hash: prevHash,
      hash,
    })
    prevHash = hash
  }
  await trx.from('audit_heads').where('id', 1).update({ hash: prevHash })
  for (let start = 0; start < rows.length; start += INSERT_ROWS) {
    await trx.table('audit_entries').multiInsert(rows.slice(start, start + INSERT_ROWS))
  }
}
