/**
 * Dual-offline verification on the terminal (docs/terminal-protocol.md §9):
 * with neither the phone nor the terminal online, the terminal checks the
 * campus code with the issuer public keys and the blacklist it synced,
 * refuses a code it has already seen (replay cache), applies the per-card
 * offline limits for the day (payments) or the access rules of the point
 * (doors and gates) and stores a record with its own sequence number for
 * upload later.
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
import { normalizeUid } from '#cards/services/uids'
import {
  decideAccess,
  type AccessDecision,
  type AccessSnapshot,
  type PresentedCredential,
} from '#access/services/access_decision'
import { presentedCode } from '#access/services/presented_code'
import type { AccessRecord, PaymentRecord, RecordStore } from './records.js'

/** One access point's rules, as the access_rules section of the last sync brought them. */
export interface SyncedAccessRules {
  version: number
  etag: string
  snapshot: AccessSnapshot
}

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
  /** Doors and gates: the rules of each access point the terminal controls, by point id. */
  accessRules: Record<string, SyncedAccessRules>
}

export type OfflineRefusal =
  | VerifyError
  | 'code_replayed'
  | 'no_payment_permission'
  | 'offline_not_allowed'
  | 'offline_single_amount_exceeded'
  | 'offline_count_exceeded'
  | 'offline_amount_exceeded'

export type OfflineOutcome =
  | { ok: true; record: PaymentRecord; verified: VerifiedCode }
  | { ok: false; error: OfflineRefusal; cardNo?: string }

/** What a person presents at a door or gate: a campus code's text, or a physical card's UID. */
export type AccessCredential = { code: string } | { uid: string }

export interface OfflineAccessOutcome {
  /** decideAccess's answer: whether the door opens, and why. */
  decision: AccessDecision
  /**
   * The decision as stored for upload; null when the terminal holds no
   * rules for the point (nothing it could upload: the point is not its own).
   */
  record: AccessRecord | null
}

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
  /** Access snapshots with the synced blacklist added (point → rebuilt when either changes). */
  readonly #effectiveRules = new Map<string, { key: string; snapshot: AccessSnapshot }>()

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
   * An offline access decision at a door or gate, the way the server
   * decides online (docs/access-control.md §2): the campus code is verified
   * with the synced keys and blacklist and claimed in the replay cache, then
   * `decideAccess` runs on the point's synced rules snapshot (with the
   * synced blacklist added) at the terminal's time. Every decision, open or
   * not, is stored as a record for POST /t/v1/access/events.
   *
   * `point` may be left out when the terminal holds the rules of one point.
   */
  async access(
    credential: AccessCredential,
    nowSeconds: number,
    point?: string
  ): Promise<OfflineAccessOutcome> {
    const state = this.state()
    const held = Object.keys(state.accessRules)
    if (point === undefined && held.length > 1) {
      throw new Error(`Name the access point: this terminal controls ${held.join(', ')}`)
    }
    const pointId = point?.toUpperCase() ?? held[0] ?? null
    const rules = pointId ? state.accessRules[pointId] : undefined
    const uid = 'uid' in credential ? normalizeUid(credential.uid) : null
    if (!pointId || !rules) {
      // Like the server: a point without rules uses up no code.
      const presented: PresentedCredential = uid
        ? { kind: 'card', uid: uid.ok ? uid.value : '' }
        : { kind: 'code_refused', error: 'unknown_point', cardNo: null }
      return { decision: decideAccess(null, presented, nowSeconds), record: null }
    }

    let presented: PresentedCredential
    if ('code' in credential) {
      const verified = await this.verify(credential.code, nowSeconds)
      presented = presentedCode(verified, credential.code)
      if (verified.ok) {
        const claim = await this.replayGuard.claim(verified.value, nowSeconds)
        if (!claim.ok) {
          presented = {
            kind: 'code_refused',
            error: 'code_replayed',
            cardNo: verified.value.cardNo,
          }
        }
      }
    } else {
      presented = { kind: 'card', uid: uid!.ok ? uid!.value : '' }
    }
    const decision = decideAccess(this.#rulesWithBlacklist(pointId, rules), presented, nowSeconds)
    const record = this.records.append({
      type: 'access',
      point: pointId,
      credential: 'code' in credential ? 'code' : 'card',
      card_no: decision.cardNo,
      uid: uid?.ok ? uid.value : null,
      allowed: decision.allowed,
      reason: decision.reason,
      rules_version: rules.version,
      occurred_at: nowSeconds * 1000,
    })
    return { decision, record }
  }

  /**
   * The point's snapshot, with the cards and UIDs of the blacklist the
   * terminal synced added to its own list: a card blacklisted since the
   * snapshot was built is refused too (docs/access-control.md §3).
   */
  #rulesWithBlacklist(pointId: string, rules: SyncedAccessRules): AccessSnapshot {
    const state = this.state()
    const key = `${rules.etag}:${state.blacklistVersion}`
    const known = this.#effectiveRules.get(pointId)
    if (known && known.key === key) return known.snapshot
    const snapshot: AccessSnapshot = {
      ...rules.snapshot,
      blacklist: {
        cards: [...new Set([...rules.snapshot.blacklist.cards, ...state.blacklistedCards])].sort(),
        uids: [...new Set([...rules.snapshot.blacklist.uids, ...state.blacklistedUids])].sort(),
      },
    }
    // The same object for every decision, so decideAccess indexes it once.
    this.#effectiveRules.set(pointId, { key, snapshot })
    return snapshot
  }
}
