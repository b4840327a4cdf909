import db from '@adonisjs/lucid/services/db'
import { normalizeUid } from '#cards/services/uids'
import { eventRow, personIdsOfCards, type AccessEventFields } from '#access/services/access_events'

/** The most records one upload may carry. */
export const MAX_UPLOAD_RECORDS = 5000

/** One decision a terminal made offline, as it uploads it. */
export interface OfflineAccessRecord {
  /** The terminal's own sequence number: with the terminal, the record's identity. */
  seq: number
  /** The access point's public id. */
  point: string
  /** Unix seconds, the terminal's clock. */
  at: number
  credential: 'code' | 'card'
  cardNo?: string | null
  uid?: string | null
  allowed: boolean
  /** The decision's reason code (docs/access-control.md §2). */
  reason: string
  /** The version of the rules snapshot the terminal decided with. */
  rulesVersion?: number | null
}

export type RecordStatus = 'recorded' | 'duplicate' | 'rejected'

export interface RecordResult {
  seq: number
  status: RecordStatus
  /** Why a record was rejected: invalid_record or point_not_linked. */
  error?: string
}

const REASON = /^[a-z_]{1,24}(:[a-z_]{1,22})?$/
const CARD_NO = /^\d{6,20}$/
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/i

function isValid(record: OfflineAccessRecord): boolean {
  return (
    Number.isSafeInteger(record.seq) &&
    record.seq > 0 &&
    Number.isSafeInteger(record.at) &&
    record.at > 0 &&
    typeof record.point === 'string' &&
    PUBLIC_ID.test(record.point) &&
    (record.credential === 'code' || record.credential === 'card') &&
    typeof record.allowed === 'boolean' &&
    typeof record.reason === 'string' &&
    REASON.test(record.reason) &&
    (record.cardNo === undefined || record.cardNo === null || CARD_NO.test(record.cardNo)) &&
    (record.rulesVersion === undefined ||
      record.rulesVersion === null ||
      (Number.isSafeInteger(record.rulesVersion) && record.rulesVersion >= 0))
  )
}

/**
 * Records the access decisions a terminal made offline. A record is named
 * by the terminal and its sequence number: uploading it again records
 * nothing and answers `duplicate`, so a terminal may retry a whole batch
 * after a lost answer. A record for a point that is not the terminal's is
 * rejected. Every record gets its own result, in the order sent.
 */
export class IngestAccessEvents {
  async handle(input: {
    terminalId: number
    records: OfflineAccessRecord[]
  }): Promise<RecordResult[]> {
    const records = input.records.slice(0, MAX_UPLOAD_RECORDS)
    const valid = records.filter(isValid)
    const points = new Map<string, { id: number; zoneId: number; direction: string }>()
    const pointIds = [...new Set(valid.map((record) => record.point.toUpperCase()))]
    for (let start = 0; start < pointIds.length; start += 1000) {
      const rows = await db
        .from('access_points')
        .whereIn('public_id', pointIds.slice(start, start + 1000))
        .where('terminal_id', input.terminalId)
        .select('id', 'public_id', 'zone_id', 'direction')
      for (const row of rows) {
        points.set(row.public_id, {
          id: Number(row.id),
          zoneId: Number(row.zone_id),
          direction: row.direction,
        })
      }
    }
    const personOfCard = await personIdsOfCards([
      ...new Set(valid.flatMap((record) => (record.cardNo ? [record.cardNo] : []))),
    ])
    const uidsWithoutCard = [
      ...new Set(
        valid.flatMap((record) => {
          const uid = record.uid ? normalizeUid(record.uid) : null
          return !record.cardNo && uid?.ok ? [uid.value] : []
        })
      ),
    ]
    const personOfUid = new Map<string, { personId: number; cardNo: string }>()
    for (let start = 0; start < uidsWithoutCard.length; start += 1000) {
      const rows = await db
        .from('physical_cards')
        .join('cards', 'cards.id', 'physical_cards.card_id')
        .whereIn('physical_cards.uid', uidsWithoutCard.slice(start, start + 1000))
        .orderBy('physical_cards.id')
        .select('physical_cards.uid', 'physical_cards.person_id', 'cards.card_no')
      // Ordered by id: the latest binding of a UID is written last.
      for (const row of rows) {
        personOfUid.set(row.uid, { personId: Number(row.person_id), cardNo: row.card_no })
      }
    }

    return db.transaction(async (trx) => {
      const seqs = [...new Set(valid.map((record) => record.seq))]
      const existing = new Set<number>()
      for (let start = 0; start < seqs.length; start += 1000) {
        const rows = await trx
          .from('access_events')
          .where('terminal_id', input.terminalId)
          .whereIn('terminal_seq', seqs.slice(start, start + 1000))
          .select('terminal_seq')
        for (const row of rows) existing.add(Number(row.terminal_seq))
      }
      const results: RecordResult[] = []
      const inserts: ReturnType<typeof eventRow>[] = []
      for (const record of records) {
        const seq = Number.isSafeInteger(record.seq) ? record.seq : 0
        if (!isValid(record)) {
          results.push({ seq, status: 'rejected', error: 'invalid_record' })
          continue
        }
        if (existing.has(seq)) {
          results.push({ seq, status: 'duplicate' })
          continue
        }
        const point = points.get(record.point.toUpperCase())
        if (!point) {
          results.push({ seq, status: 'rejected', error: 'point_not_linked' })
          continue
        }
        const uid = record.uid ? normalizeUid(record.uid) : null
        const uidValue = uid?.ok ? uid.value : null
        const byUid = uidValue && !record.cardNo ? personOfUid.get(uidValue) : undefined
        const cardNo = record.cardNo ?? byUid?.cardNo ?? null
        const fields: AccessEventFields = {
          occurredAt: record.at,
          pointId: point.id,
          zoneId: point.zoneId,
          direction: point.direction,
          personId: record.cardNo
            ? (personOfCard.get(record.cardNo) ?? null)
            : (byUid?.personId ?? null),
          cardNo,
          uid: uidValue,
          credential: record.credential,
          allowed: record.allowed,
          reason: record.reason,
          mode: 'offline',
          terminalId: input.terminalId,
          terminalSeq: seq,
          rulesVersion: record.rulesVersion ?? null,
        }
        inserts.push(eventRow(fields, trx))
        existing.add(seq)
        results.push({ seq, status: 'recorded' })
      }
      for (let start = 0; start < inserts.length; start += 500) {
        // A concurrent upload of the same records meets the unique index and records nothing.
        await trx
          .table('access_events')
          .insert(inserts.slice(start, start + 500))
          .onConflict(['terminal_id', 'terminal_seq'])
          .ignore()
      }
      return results
    })
  }
}
