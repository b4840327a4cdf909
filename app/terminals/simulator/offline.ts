/**
 * Dual-offline verification on the terminal (docs/terminal-protocol.md §9):
 * with neither the phone nor the terminal online, the terminal checks the
 * campus code with the issuer public keys and the blacklist it synced,
 * refuses a code it has already seen (replay cache), applies the per-card
 * offline limits for the day and stores a record with its own sequence
 * number for upload later.
 */
import {
  blacklistOf,
  createIssuerKeyRing,
  fromHex,
  MemoryReplayGuard,
  verifyCode,
  type IssuerKeyRing,
  type VerifiedCode,
  type VerifyError,
} from '#cards/campus_code/index'
import type { RecordStore, TerminalRecord } from './records.js'

/** What GET /t/v1/sync returns, as the terminal keeps it. */
export interface SyncedState {
  issuerKeys: Array<{ kid: string; public_key: string; retired_at: number | null }>
  /** Card numbers on the blacklist. */
  blacklistedCards: Set<string>
  /** Physical card UIDs on the blacklist. */
  blacklistedUids: Set<string>
  /** Device public keys (hex) of replaced phones on the blacklist. */
  blacklistedDevices: Set<string>
  blacklistVersion: number
  /** The terminal's own limits (config / sync offline_limits). */
  terminalLimits: { count_per_day: number; amount_per_day: number; single_amount: number }
  campusCode: { lifetime_seconds: number; clock_skew_seconds: number }
  /** The school's time zone: "per day" means a calendar day there. */
  timeZone: string
}

export type OfflineRefusal =
  | VerifyError
  | 'code_replayed'
  | 'no_payment_permission'
  | 'no_access_permission'
  | 'offline_not_allowed'
  | 'offline_single_amount_exceeded'
  | 'offline_count_exceeded'
  | 'offline_amount_exceeded'

export type OfflineOutcome =
  | { ok: true; record: TerminalRecord; verified: VerifiedCode }
  | { ok: false; error: OfflineRefusal; cardNo?: string }

interface DayUsage {
  day: string
  count: number
  amount: number
}

export class OfflineVerifier {
  #ring: Promise<IssuerKeyRing> | null = null
  #ringKeys = ''
  readonly replayGuard = new MemoryReplayGuard()
  /** Offline spending per card today (card number → usage). */
  readonly #usage = new Map<string, DayUsage>()

  constructor(
    readonly state: () => SyncedState,
    readonly records: RecordStore
  ) {}

  /** The issuer key ring, rebuilt when a sync brought different keys. */
  #keyRing(): Promise<IssuerKeyRing> {
    const keys = this.state().issuerKeys
    const signature = keys.map((key) => `${key.public_key}:${key.retired_at}`).join(',')
    if (!this.#ring || signature !== this.#ringKeys) {
      this.#ringKeys = signature
      this.#ring = createIssuerKeyRing(
        keys.map((key) => ({ publicKey: fromHex(key.public_key), retiredAt: key.retired_at }))
      )
    }
    return this.#ring
  }

  #day(nowSeconds: number): string {
    return new Intl.DateTimeFormat('en-CA', { timeZone: this.state().timeZone }).format(
      new Date(nowSeconds * 1000)
    )
  }

  /** Steps 1–8 of docs/campus-code.md §6 against the synced keys and blacklist. */
  async verify(text: string, nowSeconds: number) {
    const state = this.state()
    return verifyCode(text, {
      issuerKeys: await this.#keyRing(),
      now: nowSeconds,
      clockSkewSeconds: state.campusCode.clock_skew_seconds,
      codeLifetimeSeconds: state.campusCode.lifetime_seconds,
      isBlacklisted: blacklistOf({
        cardNos: state.blacklistedCards,
        devicePublicKeys: state.blacklistedDevices,
      }),
    })
  }

  /**
   * An offline payment of `amount` fen: verify, check the limits (the
   * smaller of the card's and the terminal's), claim the code, then store
   * the record. Nothing is stored or claimed when it is refused, except a
   * replay, which the terminal keeps refusing.
   */
  async pay(text: string, amount: number, nowSeconds: number): Promise<OfflineOutcome> {
    const verified = await this.verify(text, nowSeconds)
    if (!verified.ok) return { ok: false, error: verified.error }
    const code = verified.value
    if (!code.permissions.includes('payment')) {
      return { ok: false, error: 'no_payment_permission', cardNo: code.cardNo }
    }
    const terminal = this.state().terminalLimits
    const limits = {
      count: Math.min(code.offlineLimits.maxCountPerDay, terminal.count_per_day),
      amount: Math.min(code.offlineLimits.maxAmountPerDayFen, terminal.amount_per_day),
      single: Math.min(code.offlineLimits.maxSingleAmountFen, terminal.single_amount),
    }
    if (limits.count === 0) return { ok: false, error: 'offline_not_allowed', cardNo: code.cardNo }
    if (amount > limits.single) {
      return { ok: false, error: 'offline_single_amount_exceeded', cardNo: code.cardNo }
    }
    const day = this.#day(nowSeconds)
    const existing = this.#usage.get(code.cardNo)
    const usage = existing && existing.day === day ? existing : { day, count: 0, amount: 0 }
    if (usage.count + 1 > limits.count) {
      return { ok: false, error: 'offline_count_exceeded', cardNo: code.cardNo }
    }
    if (usage.amount + amount > limits.amount) {
      return { ok: false, error: 'offline_amount_exceeded', cardNo: code.cardNo }
    }
    const claim = await this.replayGuard.claim(code, nowSeconds)
    if (!claim.ok) return { ok: false, error: 'code_replayed', cardNo: code.cardNo }
    usage.count += 1
    usage.amount += amount
    this.#usage.set(code.cardNo, usage)
    const record = this.records.append({
      type: 'payment',
      code: text,
      code_id: code.codeId,
      card_no: code.cardNo,
      amount,
      occurred_at: nowSeconds * 1000,
    })
    return { ok: true, record, verified: code }
  }

  /**
   * An offline access decision: the code verifies, is not replayed and
   * carries the access permission. Zone and time rules come from the
   * access rules the terminal synced (extend here); the decision is stored
   * as a record for upload.
   */
  async access(text: string, nowSeconds: number): Promise<OfflineOutcome> {
    const verified = await this.verify(text, nowSeconds)
    if (!verified.ok) return { ok: false, error: verified.error }
    const code = verified.value
    if (!code.permissions.includes('access')) {
      return { ok: false, error: 'no_access_permission', cardNo: code.cardNo }
    }
    const claim = await this.replayGuard.claim(code, nowSeconds)
    if (!claim.ok) return { ok: false, error: 'code_replayed', cardNo: code.cardNo }
    const record = this.records.append({
      type: 'access',
      code: text,
      code_id: code.codeId,
      card_no: code.cardNo,
      amount: 0,
      occurred_at: nowSeconds * 1000,
    })
    return { ok: true, record, verified: code }
  }
}
