/**
 * The reference terminal: a readable implementation of the terminal side of
 * docs/terminal-protocol.md, used by the tests, the benchmarks and
 * `node ace terminal:simulate`. Read it top to bottom as a vendor:
 *
 *   enroll()        one-time code + CSR  → client certificate      (§4)
 *   fetchConfig()   GET /t/v1/config                               (§5)
 *   heartbeat()     POST /t/v1/heartbeat, clock drift              (§6)
 *   sync()          GET /t/v1/sync: keys, blacklist delta, limits,
 *                   access rules of a door's points                (§7)
 *   payOnline()     POST /t/v1/payments                            (§8, hook)
 *   checkAccess()   POST /t/v1/access                              (§8, hook)
 *   payOffline()    local verification, replay cache, limits       (§9)
 *   accessOffline() local verification, decideAccess on the synced
 *                   rules, a record for every decision             (§9, Access control)
 *   uploadOffline() POST /t/v1/offline                             (§9, hook)
 *   uploadAccessEvents() POST /t/v1/access/events                  (Access control)
 */
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import forge from 'node-forge'
import { GatewayClient, GatewayRequestError, type ClientIdentity } from './client.js'
import type { AccessSnapshot } from '#access/services/access_decision'
import {
  OfflineVerifier,
  type AccessCredential,
  type OfflineAccessOutcome,
  type OfflineOutcome,
  type SyncedAccessRules,
  type SyncedState,
} from './offline.js'
import {
  RecordStore,
  type AccessRecord,
  type PaymentRecord,
  type TerminalRecord,
} from './records.js'

export interface SimulatedTerminalOptions {
  /** The gateway, e.g. https://10.0.0.5:8444 */
  baseUrl: string
  /** The appliance CA, when the terminal already has it (tests); otherwise learnt at enrollment. */
  caPem?: string
  /** The CA fingerprint shown in the console next to the enrollment code. */
  caFingerprint?: string
  /** Where the terminal keeps its key, certificate, sequence and synced lists (JSON). */
  statePath?: string
  /** Added to the real clock: simulates a terminal whose clock is off. */
  clockOffsetMs?: number
  firmwareVersion?: string
  model?: string
}

/** Everything a terminal must keep across restarts. */
export interface TerminalState {
  terminalId: string | null
  identity: ClientIdentity | null
  caPem: string | null
  config: any
  synced: {
    issuerKeys: SyncedState['issuerKeys']
    blacklistedCards: string[]
    blacklistedUids: string[]
    blacklistedDevices: string[]
    blacklistVersion: number
    terminalLimits: SyncedState['terminalLimits']
    /** Doors and gates: each access point's rules snapshot, by point id. */
    accessRules: Record<string, SyncedAccessRules>
    extra: Record<string, unknown>
  }
  records: ReturnType<RecordStore['snapshot']>
}

function emptyState(): TerminalState {
  return {
    terminalId: null,
    identity: null,
    caPem: null,
    config: null,
    synced: {
      issuerKeys: [],
      blacklistedCards: [],
      blacklistedUids: [],
      blacklistedDevices: [],
      blacklistVersion: 0,
      terminalLimits: { count_per_day: 0, amount_per_day: 0, single_amount: 0 },
      accessRules: {},
      extra: {},
    },
    records: { lastSequence: 0, records: [] },
  }
}

/** A PKCS#10 request for a fresh RSA-2048 key (the key never leaves the terminal). */
export function makeCsr(commonName = 'quad-terminal'): { keyPem: string; csrPem: string } {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  const csr = forge.pki.createCertificationRequest()
  csr.publicKey = forge.pki.publicKeyFromPem(pair.publicKey)
  csr.setSubject([{ name: 'commonName', value: commonName }])
  csr.sign(forge.pki.privateKeyFromPem(pair.privateKey), forge.md.sha256.create())
  return { keyPem: pair.privateKey, csrPem: forge.pki.certificationRequestToPem(csr) }
}

function recordForUpload(record: PaymentRecord) {
  const { uploaded, result, ...data } = record
  void uploaded
  void result
  return data
}

/** An access record as POST /t/v1/access/events takes it (time in Unix seconds). */
function accessEventForUpload(record: AccessRecord) {
  return {
    seq: record.sequence,
    point: record.point,
    at: Math.floor(record.occurred_at / 1000),
    credential: record.credential,
    card_no: record.card_no,
    uid: record.uid,
    allowed: record.allowed,
    reason: record.reason,
    rules_version: record.rules_version,
  }
}

/** The access_rules section of a sync answer (docs/access-control.md §5). */
interface AccessRulesSection {
  points: Array<{ point: string; version: number; etag: string; snapshot?: AccessSnapshot }>
}

export class SimulatedTerminal {
  readonly client: GatewayClient
  readonly options: SimulatedTerminalOptions
  state: TerminalState
  records: RecordStore
  readonly offline: OfflineVerifier
  /** The server's clock at the last sync (Unix ms). */
  lastServerTime: number | null = null

  constructor(options: SimulatedTerminalOptions) {
    this.options = options
    this.state =
      options.statePath && existsSync(options.statePath)
        ? (JSON.parse(readFileSync(options.statePath, 'utf8')) as TerminalState)
        : emptyState()
    this.records = new RecordStore(this.state.records)
    const caPem = this.state.caPem ?? options.caPem
    this.client = new GatewayClient({
      baseUrl: options.baseUrl,
      caPem: caPem ?? undefined,
      caFingerprint: options.caFingerprint,
      identity: this.state.identity ?? undefined,
    })
    this.offline = new OfflineVerifier(() => this.syncedState(), this.records)
  }

  /** The terminal's clock (Unix ms), off by clockOffsetMs when simulating a bad clock. */
  now(): number {
    return Date.now() + (this.options.clockOffsetMs ?? 0)
  }

  get enrolled(): boolean {
    return this.state.identity !== null
  }

  syncedState(): SyncedState {
    const config = this.state.config
    return {
      issuerKeys: this.state.synced.issuerKeys,
      blacklistedCards: new Set(this.state.synced.blacklistedCards),
      blacklistedUids: new Set(this.state.synced.blacklistedUids),
      blacklistedDevices: new Set(this.state.synced.blacklistedDevices ?? []),
      blacklistVersion: this.state.synced.blacklistVersion,
      terminalLimits: this.state.synced.terminalLimits,
      campusCode: config?.campus_code ?? { lifetime_seconds: 60, clock_skew_seconds: 90 },
      timeZone: config?.school?.time_zone ?? 'Asia/Shanghai',
      accessRules: this.state.synced.accessRules ?? {},
    }
  }

  /** Writes the state file (a real terminal writes before answering the person). */
  save() {
    this.state.records = this.records.snapshot()
    if (this.options.statePath) {
      writeFileSync(this.options.statePath, JSON.stringify(this.state), { mode: 0o600 })
    }
  }

  close() {
    this.client.close()
  }

  /** §4: exchange the one-time code for a certificate; the key is made here and stays here. */
  async enroll(enrollmentCode: string): Promise<{ terminalId: string; fingerprint: string }> {
    const { keyPem, csrPem } = makeCsr()
    const answer = await this.client.call('POST', '/t/v1/enroll', {
      enrollment_code: enrollmentCode,
      csr: csrPem,
    })
    this.state.terminalId = answer.terminal.id
    this.state.identity = { keyPem, certificatePem: answer.certificate }
    this.state.caPem = answer.ca_certificate
    this.client.useIdentity(this.state.identity, answer.ca_certificate)
    this.save()
    return { terminalId: answer.terminal.id, fingerprint: answer.certificate_fingerprint }
  }

  /** §5: terminal settings, offline limits, code timings. */
  async fetchConfig() {
    this.state.config = await this.client.call('GET', '/t/v1/config')
    this.state.synced.terminalLimits = this.state.config.offline_limits
    this.save()
    return this.state.config
  }

  /** §6: tell the gateway we are alive, what we run and how many records wait. */
  async heartbeat() {
    return this.client.call('POST', '/t/v1/heartbeat', {
      terminal_time: this.now(),
      firmware_version: this.options.firmwareVersion ?? 'quad-sim 1.0',
      model: this.options.model ?? 'Quad reference terminal',
      pending_records: this.records.pending().length,
      last_sequence: this.records.lastSequence,
    })
  }

  /**
   * §7: keys, blacklist delta since what we have, limits, and any module
   * sections; for a door or gate, the rules of each of its access points.
   */
  async sync() {
    const since = this.state.synced.blacklistVersion
    const held = Object.values(this.state.synced.accessRules ?? {})
    // The version held, so that an unchanged snapshot is not sent again (one point only:
    // versions are per point).
    const rulesSince = held.length === 1 ? `&access_rules_since=${held[0].version}` : ''
    const answer = await this.client.call('GET', `/t/v1/sync?blacklist_since=${since}${rulesSince}`)
    const cards = new Set(this.state.synced.blacklistedCards)
    const uids = new Set(this.state.synced.blacklistedUids)
    const devices = new Set(this.state.synced.blacklistedDevices ?? [])
    for (const entry of answer.blacklist.removed) {
      if (entry.kind === 'card' && entry.card_no) cards.delete(entry.card_no)
      if (entry.kind === 'physical' && entry.uid) uids.delete(entry.uid)
      if (entry.kind === 'device' && entry.device_key) devices.delete(entry.device_key)
    }
    for (const entry of answer.blacklist.added) {
      if (entry.kind === 'card' && entry.card_no) cards.add(entry.card_no)
      if (entry.kind === 'physical' && entry.uid) uids.add(entry.uid)
      if (entry.kind === 'device' && entry.device_key) devices.add(entry.device_key)
    }
    const {
      issuer_keys: issuerKeys,
      blacklist,
      offline_limits: limits,
      server_time: serverTime,
      access_rules: accessRules,
      ...extra
    } = answer
    this.lastServerTime = serverTime
    this.state.synced = {
      issuerKeys,
      blacklistedCards: [...cards],
      blacklistedUids: [...uids],
      blacklistedDevices: [...devices],
      blacklistVersion: blacklist.version,
      terminalLimits: limits,
      accessRules: await this.#accessRulesFrom(accessRules),
      extra,
    }
    this.save()
    return answer
  }

  /**
   * The snapshots to keep after a sync: the ones it brought, the ones held
   * whose version it confirmed, and any other it left out, fetched alone.
   * A point no longer listed is no longer this terminal's: its rules go.
   */
  async #accessRulesFrom(
    section: AccessRulesSection | undefined
  ): Promise<Record<string, SyncedAccessRules>> {
    const held = this.state.synced.accessRules ?? {}
    const kept: Record<string, SyncedAccessRules> = {}
    for (const entry of section?.points ?? []) {
      const mine = held[entry.point]
      if (entry.snapshot) {
        kept[entry.point] = { version: entry.version, etag: entry.etag, snapshot: entry.snapshot }
      } else if (mine && mine.version === entry.version && mine.etag === entry.etag) {
        kept[entry.point] = mine
      } else {
        const rules = await this.client.call(
          'GET',
          `/t/v1/access/rules?point=${encodeURIComponent(entry.point)}`
        )
        kept[entry.point] = { version: rules.version, etag: rules.etag, snapshot: rules.snapshot }
      }
    }
    return kept
  }

  /**
   * §8 hook: an online payment. The sequence number is the idempotency key:
   * after a timeout, send the same request again with the same sequence.
   */
  async payOnline(code: string, amount: number, sequence?: number) {
    if (sequence === undefined) {
      sequence = this.records.allocate()
      this.save()
    }
    return this.client.send('POST', '/t/v1/payments', {
      code,
      amount,
      sequence,
      terminal_time: this.now(),
    })
  }

  /**
   * §8 hook: ask whether this code or card opens this door or gate (`point`
   * may be left out when the terminal controls one access point).
   */
  async checkAccess(credential: AccessCredential, point?: string) {
    return this.client.send('POST', '/t/v1/access', {
      ...(point ? { point } : {}),
      ...credential,
      terminal_time: this.now(),
    })
  }

  /** §9: an offline payment, decided here with what the last sync brought. */
  async payOffline(code: string, amount: number): Promise<OfflineOutcome> {
    const outcome = await this.offline.pay(code, amount, Math.floor(this.now() / 1000))
    if (outcome.ok) this.save()
    return outcome
  }

  /**
   * §9, Access control: an offline decision at a door or gate, by
   * `decideAccess` on the rules the last sync brought, at this terminal's
   * clock; stored for upload whether the door opens or not.
   */
  async accessOffline(credential: AccessCredential, point?: string): Promise<OfflineAccessOutcome> {
    const outcome = await this.offline.access(credential, Math.floor(this.now() / 1000), point)
    if (outcome.record) this.save()
    return outcome
  }

  /**
   * A door or gate: asks the gateway while it answers, decides alone from
   * the synced rules when it cannot be reached. An answer from the gateway
   * is final.
   */
  async access(credential: AccessCredential, point?: string) {
    try {
      const response = await this.checkAccess(credential, point)
      return { mode: 'online' as const, response }
    } catch (error) {
      if (error instanceof GatewayRequestError) throw error
      return { mode: 'offline' as const, outcome: await this.accessOffline(credential, point) }
    }
  }

  /**
   * Online when the gateway answers, offline when it cannot be reached: the
   * way a till decides. A refusal from the gateway is final (no offline
   * retry of a code the server refused).
   */
  async pay(code: string, amount: number) {
    try {
      const response = await this.payOnline(code, amount)
      return { mode: 'online' as const, response }
    } catch (error) {
      if (error instanceof GatewayRequestError) throw error
      return { mode: 'offline' as const, outcome: await this.payOffline(code, amount) }
    }
  }

  /**
   * §9 hook: upload the pending payment records in batches. The gateway answers one
   * result per record; a record it answered for (booked, duplicate or
   * refused) is done, others are sent again next time.
   */
  async uploadOffline(batchSize = 500): Promise<{ sent: number; results: unknown[] }> {
    // Access decisions go to the access module's upload (uploadAccessEvents).
    return this.uploadPending('payment', '/t/v1/offline', batchSize, (record) =>
      recordForUpload(record as PaymentRecord)
    )
  }

  /**
   * Access control: upload the pending access decisions in batches
   * (POST /t/v1/access/events, at most 5,000 a request). Every answered
   * record is done, whether recorded, duplicate or rejected; others are sent
   * again next time.
   */
  async uploadAccessEvents(batchSize = 500): Promise<{ sent: number; results: unknown[] }> {
    return this.uploadPending(
      'access',
      '/t/v1/access/events',
      Math.min(batchSize, 5000),
      (record) => accessEventForUpload(record as AccessRecord),
      (result) => result.seq
    )
  }

  /**
   * Sends the pending records of one type in batches until none is left or
   * the gateway answers none of a batch; a record it answered for is done.
   */
  private async uploadPending(
    type: TerminalRecord['type'],
    path: string,
    batchSize: number,
    wire: (record: TerminalRecord) => unknown,
    sequenceOf: (result: any) => number = (result) => result.sequence
  ): Promise<{ sent: number; results: unknown[] }> {
    const results: unknown[] = []
    let sent = 0
    for (;;) {
      const batch = this.records.pending(batchSize, type)
      if (batch.length === 0) break
      const answer = await this.client.call('POST', path, { records: batch.map(wire) })
      const answered = new Map<number, unknown>()
      for (const result of answer.results ?? []) answered.set(sequenceOf(result), result)
      if (answered.size === 0) break
      this.records.markUploaded(answered.keys(), answered)
      results.push(...answered.values())
      sent += batch.length
      this.save()
    }
    return { sent, results }
  }
}
