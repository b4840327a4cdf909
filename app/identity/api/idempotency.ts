import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

/** What a write answered, kept so that a retry gets exactly the same answer. */
export interface StoredResponse {
  status: number
  body: unknown
}

export type Reservation =
  | { kind: 'new'; id: number }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'conflict' }
  | { kind: 'in_progress' }

/** JSON with object keys sorted, so that key order does not change the hash. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

/** The hash that tells "the same request again" from "another request under the same key". */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonical(body)}`)
    .digest('hex')
}

/**
 * A claim older than this whose request never answered belongs to a process
 * that died mid-request: a retry may take it over. No request runs this long.
 */
const ABANDONED_AFTER_MINUTES = 10

function now() {
  return DateTime.utc().toFormat(db.connection().dialect.dateTimeFormat)
}

function claimedAt(value: unknown): DateTime {
  return value instanceof Date
    ? DateTime.fromJSDate(value, { zone: 'utc' })
    : DateTime.fromSQL(String(value), { zone: 'utc' })
}

async function lookup(clientId: number, key: string) {
  return db
    .from('api_idempotency_keys')
    .where('api_client_id', clientId)
    .where('key', key)
    .select('id', 'request_hash', 'response_status', 'response_body', 'created_at')
    .first()
}

/** Takes over an abandoned claim; only one of several retries wins it. */
async function takeOver(row: Record<string, any>): Promise<boolean> {
  const updated = await db
    .from('api_idempotency_keys')
    .where('id', row.id)
    .where('created_at', row.created_at)
    .whereNull('response_status')
    .update({ created_at: now() })
  return Number(updated) === 1 || (Array.isArray(updated) && Number(updated[0]) === 1)
}

/**
 * Claims an idempotency key for a write before the write runs. The unique
 * (client, key) index decides between two concurrent requests: the loser
 * sees the winner's row. A claimed key with the same request hash replays
 * the stored answer; with another hash it is a conflict.
 */
export async function reserveIdempotencyKey(
  clientId: number,
  key: string,
  hash: string
): Promise<Reservation> {
  const existing = await lookup(clientId, key)
  if (!existing) {
    try {
      const [row] = await db
        .table('api_idempotency_keys')
        .insert({
          api_client_id: clientId,
          key,
          request_hash: hash,
          created_at: now(),
        })
        .returning('id')
      return { kind: 'new', id: Number(typeof row === 'object' ? row.id : row) }
    } catch (error) {
      const raced = await lookup(clientId, key)
      if (!raced) throw error
      return settle(raced, hash)
    }
  }
  const settled = settle(existing, hash)
  if (
    settled.kind === 'in_progress' &&
    claimedAt(existing.created_at).plus({ minutes: ABANDONED_AFTER_MINUTES }) < DateTime.utc() &&
    (await takeOver(existing))
  ) {
    return { kind: 'new', id: Number(existing.id) }
  }
  return settled
}

function settle(row: Record<string, any>, hash: string): Reservation {
  if (row.request_hash !== hash) return { kind: 'conflict' }
  if (row.response_status === null || row.response_status === undefined) {
    return { kind: 'in_progress' }
  }
  return {
    kind: 'replay',
    response: { status: Number(row.response_status), body: JSON.parse(row.response_body) },
  }
}

/** Stores the answer of a write under its key. */
export async function completeIdempotencyKey(id: number, response: StoredResponse) {
  await db
    .from('api_idempotency_keys')
    .where('id', id)
    .update({ response_status: response.status, response_body: JSON.stringify(response.body) })
}

/** Frees a key whose write failed unexpectedly, so that the client may retry it. */
export async function releaseIdempotencyKey(id: number) {
  await db.from('api_idempotency_keys').where('id', id).delete()
}
