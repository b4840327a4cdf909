import { setTimeout as sleep } from 'node:timers/promises'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import {
  blindIndex,
  blindIndexRotationPending,
  currentPiiKeyId,
  decryptPii,
  encryptPii,
  finishBlindIndexRotation,
  KEY_CHECK_INTERVAL_MS,
  removeRetiredPiiKey,
  replaceBlindIndexKey,
  replacePiiKey,
  retiredPiiKeyIds,
} from '#identity/services/pii'

/**
 * Rotation of the keys that protect phone and ID numbers.
 *
 * The encryption key: a new key becomes current, the previous one is kept
 * (keys/pii-<keyId>.key) so that every row stays readable, every phone and
 * ID number is re-encrypted in batches, and the previous key file is
 * deleted once no row names it. Nobody has to stop: other processes pick
 * the new key up within a second, and rows they write meanwhile are caught
 * by a last pass that holds off writers to the people table.
 *
 * The blind-index key (optional): indexes cannot be translated from one key
 * to another, so every index is recomputed from the decrypted value. Until
 * a row's index is recomputed, a search by its phone or ID number does not
 * find it (the seconds the pass takes).
 *
 * An interrupted rotation is resumed by running it again: the kept key
 * files and a marker say how far it got.
 */

export interface RotationOptions {
  /** Also replace the blind-index key and recompute every index. */
  blindIndex?: boolean
  /** People per batch (and per transaction). */
  batchSize?: number
  onProgress?: (progress: { stage: 'reencrypt' | 'reindex'; done: number; total: number }) => void
}

export interface RotationOutcome {
  /** The new encryption key. */
  keyId: string
  /** The previous keys, now deleted. */
  retired: string[]
  /** An unfinished rotation was completed instead of starting a new one. */
  resumed: boolean
  reencrypted: number
  /** Rows whose blind indexes were recomputed; null without `blindIndex`. */
  reindexed: number | null
}

/** Long enough for every process to have looked at the key files again. */
const SETTLE_MS = 2 * KEY_CHECK_INTERVAL_MS + 500

const FIELDS = [
  { column: 'phone_ciphertext', index: 'phone_index', field: 'phone' },
  { column: 'id_doc_ciphertext', index: 'id_doc_index', field: 'id_doc_number' },
] as const

interface PiiRow {
  id: number
  phone_ciphertext: string | null
  id_doc_ciphertext: string | null
  phone_index: string | null
  id_doc_index: string | null
}

/** People with a phone or ID number written under another key than `keyId`. */
function staleRows(client: TransactionClientContract | typeof db, keyId: string) {
  const current = `pii1.${keyId}.%`
  return client.from('people').where((query) => {
    for (const { column } of FIELDS)
      query.orWhere((inner) => inner.whereNotNull(column).whereNot(column, 'like', current))
  })
}

/** The number of rows a query selects. */
async function countOf(query: ReturnType<typeof staleRows>): Promise<number> {
  const row = await query.count('* as total').first()
  return Number(row?.total ?? 0)
}

/** Re-encrypts one row's values under the current key; the row is left alone if it changed meanwhile. */
async function reencryptRow(trx: TransactionClientContract, row: PiiRow, keyId: string) {
  const changes: Record<string, string> = {}
  const unchanged: Record<string, string> = {}
  for (const { column, field } of FIELDS) {
    const value = row[column]
    if (value === null || value.startsWith(`pii1.${keyId}.`)) continue
    changes[column] = encryptPii(field, decryptPii(field, value))
    unchanged[column] = value
  }
  if (Object.keys(changes).length === 0) return 0
  const updated = await trx.from('people').where('id', row.id).where(unchanged).update(changes)
  return Number(updated)
}

/**
 * Holds off every other writer to the people table until `trx` ends, and
 * waits for those already writing: on PostgreSQL with a table lock that
 * conflicts with inserts and updates, on SQLite by taking the database's
 * single write lock with a write that changes nothing.
 */
async function lockPeople(trx: TransactionClientContract) {
  if (trx.dialect.name === 'postgres') {
    await trx.rawQuery('LOCK TABLE people IN SHARE ROW EXCLUSIVE MODE')
  } else {
    await trx
      .from('people')
      .whereRaw('1 = 0')
      .update({ id: trx.raw('id') })
  }
}

async function reencryptAll(
  keyId: string,
  options: RotationOptions
): Promise<{ reencrypted: number }> {
  const batchSize = options.batchSize ?? 500
  const total = await countOf(staleRows(db, keyId))
  let done = 0
  let reencrypted = 0
  let lastId = 0
  options.onProgress?.({ stage: 'reencrypt', done, total })
  for (;;) {
    const rows: PiiRow[] = await staleRows(db, keyId)
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(batchSize)
      .select('id', 'phone_ciphertext', 'id_doc_ciphertext')
    if (rows.length === 0) break
    await db.transaction(async (trx) => {
      for (const row of rows) reencrypted += await reencryptRow(trx, row, keyId)
    })
    lastId = Number(rows[rows.length - 1].id)
    done += rows.length
    options.onProgress?.({ stage: 'reencrypt', done: Math.min(done, total), total })
  }
  return { reencrypted }
}

/** Recomputes every blind index with the current index key; returns the rows changed. */
async function reindexAll(options: RotationOptions): Promise<number> {
  const batchSize = options.batchSize ?? 500
  const withValues = () =>
    db
      .from('people')
      .where((query) => query.whereNotNull('phone_ciphertext').orWhereNotNull('id_doc_ciphertext'))
  const total = await countOf(withValues())
  let done = 0
  let changed = 0
  let lastId = 0
  options.onProgress?.({ stage: 'reindex', done, total })
  for (;;) {
    const rows: PiiRow[] = await withValues()
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(batchSize)
      .select('id', 'phone_ciphertext', 'id_doc_ciphertext', 'phone_index', 'id_doc_index')
    if (rows.length === 0) break
    await db.transaction(async (trx) => {
      for (const row of rows) {
        const changes: Record<string, string> = {}
        const unchanged: Record<string, string> = {}
        for (const { column, index, field } of FIELDS) {
          const value = row[column]
          if (value === null) continue
          const fresh = blindIndex(field, decryptPii(field, value))
          if (fresh === row[index]) continue
          changes[index] = fresh
          unchanged[column] = value
        }
        if (Object.keys(changes).length === 0) continue
        changed += Number(
          await trx.from('people').where('id', row.id).where(unchanged).update(changes)
        )
      }
    })
    lastId = Number(rows[rows.length - 1].id)
    done += rows.length
    options.onProgress?.({ stage: 'reindex', done: Math.min(done, total), total })
  }
  return changed
}

/**
 * Rotates the PII encryption key (and, with `blindIndex`, the blind-index
 * key), re-encrypting every phone and ID number. Audited when the new key
 * is made and when the old one is retired.
 */
export async function rotatePiiKeys(
  actor: AuditActor,
  options: RotationOptions = {}
): Promise<RotationOutcome> {
  let previous = retiredPiiKeyIds()
  const resumed = previous.length > 0
  if (!resumed) {
    const replaced = replacePiiKey()
    previous = [replaced.previous]
    await recordAudit(actor, {
      action: 'identity.pii_key_created',
      subjectType: 'pii_key',
      subjectId: replaced.current,
      meta: { previous: replaced.previous },
    })
  }
  const keyId = currentPiiKeyId()
  // Other processes switch to the new key within a second; from then on
  // nothing new is written under the old one.
  await sleep(SETTLE_MS)
  let { reencrypted } = await reencryptAll(keyId, options)

  // A last pass with writers held off: rows that a slower process wrote
  // under the old key while the batches ran.
  await db.transaction(async (trx) => {
    await lockPeople(trx)
    const rows: PiiRow[] = await staleRows(trx, keyId).select(
      'id',
      'phone_ciphertext',
      'id_doc_ciphertext'
    )
    for (const row of rows) reencrypted += await reencryptRow(trx, row, keyId)
  })
  // The old key goes only if, a moment later, still no row names it.
  await sleep(SETTLE_MS)
  const left = await countOf(staleRows(db, keyId))
  if (left > 0) {
    throw new Error(
      `${left} people were written under the old key meanwhile: run the rotation again to finish it`
    )
  }
  await recordAudit(actor, {
    action: 'identity.pii_key_rotated',
    subjectType: 'pii_key',
    subjectId: keyId,
    meta: { retired: previous, reencrypted, resumed },
  })
  for (const id of previous) removeRetiredPiiKey(id)

  let reindexed: number | null = null
  if (options.blindIndex) {
    if (!blindIndexRotationPending()) replaceBlindIndexKey()
    await sleep(SETTLE_MS)
    reindexed = await reindexAll(options)
    await recordAudit(actor, {
      action: 'identity.pii_index_key_rotated',
      subjectType: 'pii_key',
      meta: { reindexed },
    })
    finishBlindIndexRotation()
  }
  return { keyId, retired: previous, resumed, reencrypted, reindexed }
}
