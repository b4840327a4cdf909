/**
 * One-time use. A campus code that verifies is claimed by its code id; the
 * same code id a second time is a replay (a screenshot or a copy). The
 * server keeps claims in its database (the card module's guard); a terminal
 * keeps them in memory with MemoryReplayGuard.
 */
import { fail, ok, type Result } from './result.js'

/** What a guard needs from a verified code (VerifiedCode has all of it). */
export interface ReplayClaim {
  codeId: string
  cardNo: string
  codeTime: number
  /** After this second no verifier accepts the code, so the claim can be forgotten. */
  acceptUntil: number
}

export interface ReplayGuard {
  /** Records the code as used; fails with code_replayed if it already was. */
  claim(code: ReplayClaim, now: number): Promise<Result<void, 'code_replayed'>>
}

/**
 * An in-memory guard for a terminal or a test. It forgets a claim once its
 * code can no longer verify (acceptUntil has passed), and holds at most
 * `maxEntries` claims: beyond that it drops the oldest, which a terminal
 * never reaches (100,000 codes within one code lifetime).
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #claims = new Map<string, number>()
  readonly #maxEntries: number
  #nextSweep = 0

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new RangeError('maxEntries must be a positive integer')
    }
  }

  get size(): number {
    return this.#claims.size
  }

  async claim(code: ReplayClaim, now: number): Promise<Result<void, 'code_replayed'>> {
    this.#sweep(now)
    const until = this.#claims.get(code.codeId)
    if (until !== undefined && until >= now) return fail('code_replayed')
    this.#claims.delete(code.codeId)
    while (this.#claims.size >= this.#maxEntries) {
      const oldest = this.#claims.keys().next().value as string
      this.#claims.delete(oldest)
    }
    this.#claims.set(code.codeId, code.acceptUntil)
    return ok(undefined)
  }

  /** Drops expired claims, at most once a second and whenever the guard is full. */
  #sweep(now: number) {
    if (now < this.#nextSweep && this.#claims.size < this.#maxEntries) return
    for (const [codeId, until] of this.#claims) if (until < now) this.#claims.delete(codeId)
    this.#nextSweep = now + 1
  }
}

/** When replays freeze a card: this many within this window. */
export interface ReplayFreezePolicy {
  maxReplays: number
  windowSeconds: number
}

export const DEFAULT_REPLAY_FREEZE_POLICY: ReplayFreezePolicy = {
  maxReplays: 3,
  windowSeconds: 10 * 60,
}

/**
 * Whether a card's replays (Unix seconds at which each was seen) reach the
 * freeze threshold at `now`: `maxReplays` or more within the last
 * `windowSeconds`.
 */
export function replaysReachFreeze(
  replayTimes: Iterable<number>,
  now: number,
  policy: ReplayFreezePolicy = DEFAULT_REPLAY_FREEZE_POLICY
): boolean {
  let recent = 0
  for (const time of replayTimes) if (time > now - policy.windowSeconds && time <= now) recent++
  return recent >= policy.maxReplays
}
