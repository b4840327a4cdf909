import { createHash } from 'node:crypto'

/**
 * JSON with object keys sorted, so that key order never changes a hash.
 * Built in one pass (every booking hashes its request): the text must stay
 * exactly what it has been, since hashes are stored with the transfers.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>
    let text = '{'
    for (const key of Object.keys(object).sort()) {
      const inner = object[key]
      if (inner === undefined) continue
      if (text.length > 1) text += ','
      text += `${JSON.stringify(key)}:${canonicalJson(inner)}`
    }
    return `${text}}`
  }
  return JSON.stringify(value ?? null)
}

/** What makes two money requests "the same request". */
export interface RequestFingerprint {
  kind: string
  /** [account id, amount] sorted by account id: the order a caller lists them in does not matter. */
  postings: [number, number][]
  memo: string | null
  metadata: Record<string, unknown> | null
  reversesTransferId: number | null
  refersToTransferId: number | null
}

/**
 * SHA-256 of the request's content. A retry under the same idempotency key
 * must carry the same content; who sends it (another session, another
 * worker) and when do not count.
 */
export function requestHash(fingerprint: RequestFingerprint): string {
  return createHash('sha256').update(canonicalJson(fingerprint)).digest('hex')
}

/**
 * requestHash for a fingerprint whose metadata is already canonical JSON
 * (every booking has it at hand): the same text, with the keys in the order
 * canonicalJson sorts them, without taking the metadata apart again.
 */
export function requestHashOf(
  fingerprint: Omit<RequestFingerprint, 'metadata'>,
  metadataJson: string | null
): string {
  const text =
    `{"kind":${JSON.stringify(fingerprint.kind)},"memo":${JSON.stringify(fingerprint.memo)}` +
    `,"metadata":${metadataJson ?? 'null'},"postings":${canonicalJson(fingerprint.postings)}` +
    `,"refersToTransferId":${JSON.stringify(fingerprint.refersToTransferId)}` +
    `,"reversesTransferId":${JSON.stringify(fingerprint.reversesTransferId)}}`
  return createHash('sha256').update(text).digest('hex')
}

/** Printable ASCII without spaces, up to 128 characters: terminal id + sequence, or a client key. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,128}$/

/** Kinds of transfer are snake_case names: top_up, payment, refund, reversal, subsidy_issue… */
export const TRANSFER_KIND = /^[a-z][a-z0-9_]{0,31}$/
