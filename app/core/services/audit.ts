import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import AuditEntry from '#core/models/audit_entry'

/** `user` is a console account; `person` someone signed in to the portal. */
export type ActorType = 'user' | 'person' | 'system' | 'api' | 'terminal' | 'anonymous'
export type Outcome = 'success' | 'failure' | 'denied'

/** Who did it and from where. Adapters build this; actions pass it along. */
export interface AuditActor {
  type: ActorType
  id?: string | null
  name?: string | null
  ip?: string | null
  userAgent?: string | null
}

/** What happened, to which record, and the record before and after. */
export interface AuditEvent {
  action: string
  subjectType?: string | null
  subjectId?: string | null
  outcome?: Outcome
  before?: unknown
  after?: unknown
  meta?: unknown
}

export const GENESIS_HASH = '0'.repeat(64)

export const SYSTEM_ACTOR: AuditActor = { type: 'system', name: 'system' }

/** The fields that the hash covers, in a fixed order. */
export interface ChainedFields {
  seq: number
  occurredAt: DateTime
  actorType: string
  actorId: string | null
  actorName: string | null
  ip: string | null
  userAgent: string | null
  action: string
  subjectType: string | null
  subjectId: string | null
  outcome: string
  before: string | null
  after: string | null
  meta: string | null
  prevHash: string
}

/**
 * SHA-256 over a JSON array of the row's fields. The time is taken to the
 * second in UTC so that both databases give back exactly what was hashed.
 */
export function entryHash(fields: ChainedFields): string {
  const canonical = JSON.stringify([
    fields.seq,
    fields.occurredAt.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss'Z'"),
    fields.actorType,
    fields.actorId,
    fields.actorName,
    fields.ip,
    fields.userAgent,
    fields.action,
    fields.subjectType,
    fields.subjectId,
    fields.outcome,
    fields.before,
    fields.after,
    fields.meta,
    fields.prevHash,
  ])
  return createHash('sha256').update(canonical).digest('hex')
}

const SECRET_KEYS = /pass(word)?|secret|totp|token|api_?key|private/i

/** Serializes a before/after value, dropping anything that looks like a secret. */
export function auditJson(value: unknown): string | null {
  if (value === undefined || value === null) return null
  return JSON.stringify(value, (key, inner) =>
    key && SECRET_KEYS.test(key) ? '[redacted]' : inner
  )
}

async function append(trx: TransactionClientContract, actor: AuditActor, event: AuditEvent) {
  // Bump the chain head first: on PostgreSQL the row lock, on SQLite the write
  // lock, makes concurrent writers take turns so that the chain never forks.
  await trx.from('audit_heads').where('id', 1).increment('seq', 1)
  const head = await trx.from('audit_heads').where('id', 1).select('seq', 'hash').firstOrFail()
  const fields: ChainedFields = {
    seq: Number(head.seq),
    occurredAt: DateTime.utc().set({ millisecond: 0 }),
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
    prevHash: head.hash,
  }
  const hash = entryHash(fields)
  await trx.from('audit_heads').where('id', 1).update({ hash })
  return AuditEntry.create({ ...fields, hash }, { client: trx })
}

/**
 * Appends an entry to the audit log. Pass the caller's transaction so that
 * the entry is written if and only if the change it describes is.
 */
export async function recordAudit(
  actor: AuditActor,
  event: AuditEvent,
  trx?: TransactionClientContract
): Promise<AuditEntry> {
  if (trx) return append(trx, actor, event)
  return db.transaction((own) => append(own, actor, event))
}
