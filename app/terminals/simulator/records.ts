/**
 * The terminal's record store: every offline payment or access decision
 * gets the next number of the terminal's own sequence, which never goes
 * back (not after a restart, not after an upload). The sequence number is
 * the idempotency key at upload: the gateway books a (terminal, sequence)
 * once, however many times the batch is sent.
 *
 * A real terminal keeps this in flash and writes it before it tells the
 * person "paid"; the simulator keeps it in memory and in the state file.
 */
/** An offline payment, uploaded with POST /t/v1/offline. */
export interface PaymentRecordData {
  type: 'payment'
  /** The campus code's QR text, so the server verifies it again. */
  code: string
  code_id: string
  card_no: string
  /** Fen. */
  amount: number
  /** Terminal clock, Unix milliseconds. */
  occurred_at: number
}

/**
 * An access decision made offline, allowed or not, uploaded with
 * POST /t/v1/access/events (docs/access-control.md §5).
 */
export interface AccessRecordData {
  type: 'access'
  /** The access point's public id. */
  point: string
  credential: 'code' | 'card'
  /** The card the decision was about, when known. */
  card_no: string | null
  /** The physical card's UID, for a card. */
  uid: string | null
  allowed: boolean
  /** The reason code of decideAccess (in_window, outside_window, code_invalid:…). */
  reason: string
  /** The version of the rules snapshot decided with. */
  rules_version: number | null
  /** Terminal clock, Unix milliseconds. */
  occurred_at: number
}

export type TerminalRecordData = PaymentRecordData | AccessRecordData

interface RecordState {
  sequence: number
  /** Set when the gateway answered for this record at upload. */
  uploaded: boolean
  result?: unknown
}

export type PaymentRecord = PaymentRecordData & RecordState
export type AccessRecord = AccessRecordData & RecordState
export type TerminalRecord = PaymentRecord | AccessRecord

export class RecordStore {
  #records: TerminalRecord[] = []
  #lastSequence: number

  constructor(
    snapshot: { lastSequence: number; records: TerminalRecord[] } = { lastSequence: 0, records: [] }
  ) {
    this.#lastSequence = snapshot.lastSequence
    this.#records = [...snapshot.records]
  }

  get lastSequence(): number {
    return this.#lastSequence
  }

  /**
   * The next sequence number for an online request (payment, access): the
   * same counter as offline records, so that (terminal, sequence) names one
   * operation whichever way it went. Keep it for retries of that request.
   */
  allocate(): number {
    this.#lastSequence += 1
    return this.#lastSequence
  }

  append<D extends TerminalRecordData>(data: D): D & RecordState {
    this.#lastSequence += 1
    const record = { ...data, sequence: this.#lastSequence, uploaded: false }
    this.#records.push(record)
    return record
  }

  /** Records not yet answered for, oldest first; of one type when given. */
  pending(limit?: number): TerminalRecord[]
  pending<K extends TerminalRecord['type']>(
    limit: number,
    type: K
  ): Extract<TerminalRecord, { type: K }>[]
  pending(limit = Infinity, type?: TerminalRecord['type']): TerminalRecord[] {
    return this.#records
      .filter((record) => !record.uploaded && (type === undefined || record.type === type))
      .slice(0, limit)
  }

  /** Marks records the gateway answered for (accepted, duplicate or refused for good). */
  markUploaded(sequences: Iterable<number>, results?: Map<number, unknown>) {
    const done = new Set(sequences)
    for (const record of this.#records) {
      if (done.has(record.sequence)) {
        record.uploaded = true
        if (results) record.result = results.get(record.sequence)
      }
    }
  }

  /** Drops uploaded records (a terminal keeps them until the day's totals are reconciled). */
  prune() {
    this.#records = this.#records.filter((record) => !record.uploaded)
  }

  snapshot() {
    return { lastSequence: this.#lastSequence, records: this.#records }
  }
}
