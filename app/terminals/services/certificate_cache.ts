/**
 * The gateway's memory of which terminal a client certificate belongs to.
 * A terminal keeps its connection open and sends a request every few
 * seconds (heartbeats, sync, payments); reading its row for each of them
 * would cost a query per request. The gateway remembers an answer for a
 * short time instead, so that revocations made by another process (the
 * console) still reach it within that time (docs/terminal-protocol.md §2).
 */

export type CertificateLookup<T, E extends string> =
  { ok: true; terminal: T } | { ok: false; error: E }

export interface CertificateCacheOptions<T, E extends string> {
  /** Reads the terminal of a certificate fingerprint (the database). */
  lookup: (fingerprint: string) => Promise<CertificateLookup<T, E>>
  /** How long an answer is used, in milliseconds, counted from when its lookup began. */
  ttlMs: number
  /** Certificates remembered at most; the oldest go first. */
  maxEntries?: number
  /** A monotonic clock in milliseconds (tests pass their own). */
  clock?: () => number
}

interface Entry<T> {
  terminal: T
  expiresAt: number
}

/**
 * Fingerprint → terminal, for at most `ttlMs`. Only active terminals are
 * remembered: an unknown or revoked certificate is looked up each time.
 * Requests that miss at the same moment share one lookup.
 */
export class CertificateCache<T extends { id: number }, E extends string> {
  readonly ttlMs: number
  readonly #lookup: (fingerprint: string) => Promise<CertificateLookup<T, E>>
  readonly #maxEntries: number
  readonly #clock: () => number
  readonly #entries = new Map<string, Entry<T>>()
  readonly #pending = new Map<
    string,
    { answer: Promise<CertificateLookup<T, E>>; startedAt: number }
  >()
  /** Grows with every forget: a lookup that began before one does not store its answer. */
  #generation = 0

  constructor(options: CertificateCacheOptions<T, E>) {
    this.ttlMs = options.ttlMs
    this.#lookup = options.lookup
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#clock = options.clock ?? (() => performance.now())
  }

  /** The terminal of a certificate: remembered, or looked up now. */
  resolve(fingerprint: string): Promise<CertificateLookup<T, E>> {
    const now = this.#clock()
    const entry = this.#entries.get(fingerprint)
    if (entry && entry.expiresAt > now) {
      return Promise.resolve({ ok: true, terminal: entry.terminal })
    }
    // A lookup under way is shared unless it began too long ago to answer for now.
    const pending = this.#pending.get(fingerprint)
    if (pending && pending.startedAt + this.ttlMs > now) return pending.answer
    const loading = {
      startedAt: now,
      answer: this.#load(fingerprint, now).finally(() => {
        if (this.#pending.get(fingerprint) === loading) this.#pending.delete(fingerprint)
      }),
    }
    this.#pending.set(fingerprint, loading)
    return loading.answer
  }

  /** `startedAt`: the answer reflects the database as of about then, its time starts there. */
  async #load(fingerprint: string, startedAt: number): Promise<CertificateLookup<T, E>> {
    const generation = this.#generation
    const found = await this.#lookup(fingerprint)
    if (generation !== this.#generation) return found
    const expiresAt = startedAt + this.ttlMs
    // A lookup slower than the time-to-live leaves nothing to remember.
    if (found.ok && expiresAt > this.#clock()) this.#store(fingerprint, found.terminal, expiresAt)
    else if (!found.ok) this.#entries.delete(fingerprint)
    return found
  }

  #store(fingerprint: string, terminal: T, expiresAt: number) {
    this.#entries.delete(fingerprint)
    if (this.#entries.size >= this.#maxEntries) {
      const now = this.#clock()
      for (const [key, entry] of this.#entries) {
        if (entry.expiresAt <= now) this.#entries.delete(key)
      }
      // Map order is insertion order: the first entry is the oldest.
      while (this.#entries.size >= this.#maxEntries) {
        this.#entries.delete(this.#entries.keys().next().value!)
      }
    }
    this.#entries.set(fingerprint, { terminal, expiresAt })
  }

  /**
   * Makes the next request of this terminal look it up again, in this
   * process: called after a change to the terminal (revoked, re-enrolled,
   * edited) is committed.
   */
  forgetTerminal(terminalId: number) {
    this.#generation += 1
    this.#pending.clear()
    for (const [key, entry] of this.#entries) {
      if (entry.terminal.id === terminalId) this.#entries.delete(key)
    }
  }

  /** Forgets every certificate. */
  clear() {
    this.#generation += 1
    this.#pending.clear()
    this.#entries.clear()
  }

  /** Certificates remembered now (expired ones included until they are replaced). */
  get size(): number {
    return this.#entries.size
  }
}
