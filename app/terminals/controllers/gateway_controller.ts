import { toHex } from '#cards/campus_code/bytes'
import { issuerPublicKeyList } from '#cards/services/issuer_signing'
import { blacklistSince } from '#cards/services/blacklist'
import { currentSchool } from '#appliance/services/school_settings'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { dbDateTime } from '#cards/services/db_time'
import { enrollTerminal } from '#terminals/actions/enroll_terminal'
import type { GatewayContext } from '#terminals/gateway/context'
import { GatewayError } from '#terminals/gateway/errors'
import type Terminal from '#terminals/models/terminal'
import { recordHeartbeat } from '#terminals/services/heartbeat'
import { offlineLimitsFor } from '#terminals/services/offline_limits'
import { loadSyncSections } from '#terminals/services/sync_sections'
import { TERMINAL_SETTINGS } from '#terminals/services/terminal_settings'
import {
  blacklistQueryValidator,
  enrollValidator,
  heartbeatValidator,
} from '#terminals/validators/gateway'

/**
 * The gateway's own endpoints: enrollment, configuration, clock, heartbeat
 * and sync (docs/terminal-protocol.md §4–§8).
 */

/** Failed enrollment attempts per address in the current minute. */
const failedEnrollments = new Map<string, { minute: number; count: number }>()
const MAX_FAILED_ENROLLMENTS_PER_MINUTE = 10

function enrollmentAllowed(address: string | null): boolean {
  const entry = failedEnrollments.get(address ?? '')
  return (
    !entry ||
    entry.minute !== Math.floor(Date.now() / 60_000) ||
    entry.count < MAX_FAILED_ENROLLMENTS_PER_MINUTE
  )
}

function enrollmentFailed(address: string | null) {
  const minute = Math.floor(Date.now() / 60_000)
  const key = address ?? ''
  const entry = failedEnrollments.get(key)
  if (entry && entry.minute === minute) entry.count++
  else failedEnrollments.set(key, { minute, count: 1 })
  if (failedEnrollments.size > 10_000) failedEnrollments.clear()
}

function terminalInfo(terminal: Terminal) {
  return {
    id: terminal.publicId,
    name: terminal.name,
    kind: terminal.kind,
    location: terminal.location,
    status: terminal.status,
    certificate_serial: terminal.certificateSerial,
    certificate_expires_at: terminal.certificateExpiresAt?.toISO() ?? null,
  }
}

function limitsJson(limits: Awaited<ReturnType<typeof offlineLimitsFor>>) {
  return {
    count_per_day: limits.countPerDay,
    amount_per_day: limits.amountPerDay,
    single_amount: limits.singleAmount,
  }
}

function issuerKeysJson(now: Date) {
  return issuerPublicKeyList(Math.floor(now.getTime() / 1000)).map((key) => ({
    kid: key.kid,
    public_key: toHex(key.publicKey),
    current: key.current,
    retired_at: key.retiredAt,
    accepted_until: key.acceptedUntil,
  }))
}

async function blacklistJson(since: number) {
  const delta = await blacklistSince(since)
  const entry = (item: (typeof delta.added)[number]) => ({
    kind: item.kind,
    card_no: item.cardNo,
    uid: item.uid,
    device_key: item.deviceKey,
    reason: item.reason,
    version: item.version,
  })
  return {
    since,
    version: delta.currentVersion,
    added: delta.added.map(entry),
    removed: delta.removed.map(entry),
  }
}

async function recordSynced(terminal: Terminal, version: number, now: Date) {
  const client = db.connection()
  const at = dbDateTime(DateTime.fromJSDate(now), client)
  await client
    .from('terminals')
    .where('id', terminal.id)
    .update({ blacklist_version: version, last_synced_at: at })
}

/** POST /t/v1/enroll (no client certificate) */
export async function enroll(ctx: GatewayContext) {
  const address = ctx.request.address
  if (!enrollmentAllowed(address)) throw new GatewayError('too_many_attempts', 429)
  const input = await ctx.validate(enrollValidator)
  const result = await enrollTerminal(
    input.csr
      ? { enrollmentCode: input.enrollment_code, csr: input.csr, address }
      : { enrollmentCode: input.enrollment_code, pkcs12Password: input.pkcs12_password!, address }
  )
  if (!result.ok) {
    enrollmentFailed(address)
    const status =
      result.error === 'invalid_enrollment_code' || result.error === 'enrollment_code_expired'
        ? 403
        : 422
    throw new GatewayError(result.error, status, result.details)
  }
  const { terminal, certificate, pkcs12 } = result.value
  return ctx.reply(
    {
      terminal: terminalInfo(terminal),
      certificate: pkcs12 ? null : certificate.certificatePem,
      pkcs12,
      ca_certificate: certificate.caCertificatePem,
      certificate_fingerprint: certificate.fingerprint,
      certificate_expires_at: certificate.notAfter.toISOString(),
    },
    201
  )
}

/** GET /t/v1/config */
export async function config(ctx: GatewayContext) {
  const terminal = ctx.terminal
  const school = await currentSchool().catch(() => null)
  return ctx.reply({
    protocol: 'v1',
    server_time: ctx.now.getTime(),
    terminal: terminalInfo(terminal),
    school: school ? { name: school.name, time_zone: school.timeZone } : null,
    offline_limits: limitsJson(await offlineLimitsFor(terminal)),
    campus_code: {
      refresh_seconds: TERMINAL_SETTINGS.codeRefreshSeconds,
      lifetime_seconds: TERMINAL_SETTINGS.codeLifetimeSeconds,
      clock_skew_seconds: TERMINAL_SETTINGS.clockSkewSeconds,
    },
    intervals: {
      heartbeat_seconds: TERMINAL_SETTINGS.heartbeatIntervalSeconds,
      sync_seconds: TERMINAL_SETTINGS.syncIntervalSeconds,
    },
    max_clock_drift_seconds: TERMINAL_SETTINGS.maxClockDriftSeconds,
  })
}

/** GET /t/v1/clock */
export function clock(ctx: GatewayContext) {
  return ctx.reply({ server_time: ctx.now.getTime(), iso: ctx.now.toISOString() })
}

/** POST /t/v1/heartbeat */
export async function heartbeat(ctx: GatewayContext) {
  const input = await ctx.validate(heartbeatValidator)
  const result = await recordHeartbeat(
    ctx.terminal,
    {
      terminalTime: input.terminal_time,
      firmwareVersion: input.firmware_version,
      model: input.model,
      pendingRecords: input.pending_records,
    },
    ctx.now
  )
  return ctx.reply({
    server_time: result.serverTime,
    drift_ms: result.driftMs,
    clock_status: result.clockStatus,
    status: ctx.terminal.status,
  })
}

/** GET /t/v1/keys */
export function keys(ctx: GatewayContext) {
  return ctx.reply({ server_time: ctx.now.getTime(), issuer_keys: issuerKeysJson(ctx.now) })
}

/** GET /t/v1/blacklist?since=N */
export async function blacklist(ctx: GatewayContext) {
  const query = await ctx.validate(blacklistQueryValidator)
  const body = await blacklistJson(query.since ?? 0)
  await recordSynced(ctx.terminal, body.version, ctx.now)
  return ctx.reply(body)
}

/** GET /t/v1/offline-limits */
export async function offlineLimits(ctx: GatewayContext) {
  return ctx.reply(limitsJson(await offlineLimitsFor(ctx.terminal)))
}

/** GET /t/v1/sync?blacklist_since=N: keys, blacklist delta, limits and each module's section. */
export async function sync(ctx: GatewayContext) {
  const query = await ctx.validate(blacklistQueryValidator)
  const terminal = ctx.terminal
  const blacklistDelta = await blacklistJson(query.blacklist_since ?? query.since ?? 0)
  const body = {
    server_time: ctx.now.getTime(),
    issuer_keys: issuerKeysJson(ctx.now),
    blacklist: blacklistDelta,
    offline_limits: limitsJson(await offlineLimitsFor(terminal)),
    ...(await loadSyncSections(terminal, ctx.request.query)),
  }
  await recordSynced(terminal, blacklistDelta.version, ctx.now)
  return ctx.reply(body)
}
