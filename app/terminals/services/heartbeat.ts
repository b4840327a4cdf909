import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { dbDateTime } from '#cards/services/db_time'
import type Terminal from '#terminals/models/terminal'
import { TERMINAL_SETTINGS } from '#terminals/services/terminal_settings'

export interface HeartbeatInput {
  /** The terminal's clock when it sent the heartbeat, Unix milliseconds. */
  terminalTime: number
  firmwareVersion?: string | null
  model?: string | null
  pendingRecords?: number | null
}

export interface HeartbeatResult {
  serverTime: number
  driftMs: number
  clockStatus: 'ok' | 'skewed'
}

/**
 * Records a heartbeat: the clock drift (terminal minus server, network delay
 * not subtracted: under a second on a LAN), the firmware the terminal runs
 * and how many offline records it still holds.
 */
export async function recordHeartbeat(
  terminal: Terminal,
  input: HeartbeatInput,
  now: Date
): Promise<HeartbeatResult> {
  const serverTime = now.getTime()
  const driftMs = Math.round(input.terminalTime - serverTime)
  const client = db.connection()
  const changes: Record<string, unknown> = {
    clock_drift_ms: Math.max(-2_147_483_648, Math.min(2_147_483_647, driftMs)),
    last_seen_at: dbDateTime(DateTime.fromJSDate(now), client),
    updated_at: dbDateTime(DateTime.fromJSDate(now), client),
  }
  if (input.firmwareVersion !== undefined) changes.firmware_version = input.firmwareVersion
  if (input.model !== undefined) changes.model = input.model
  if (input.pendingRecords !== undefined) changes.pending_offline_records = input.pendingRecords
  await client.from('terminals').where('id', terminal.id).update(changes)
  // The gateway keeps this object for the terminal's next requests (terminal_auth.ts).
  terminal.clockDriftMs = driftMs
  terminal.lastSeenAt = DateTime.fromJSDate(now).toUTC()
  if (input.firmwareVersion !== undefined) terminal.firmwareVersion = input.firmwareVersion
  if (input.model !== undefined) terminal.model = input.model
  if (input.pendingRecords !== undefined) terminal.pendingOfflineRecords = input.pendingRecords
  return {
    serverTime,
    driftMs,
    clockStatus:
      Math.abs(driftMs) > TERMINAL_SETTINGS.maxClockDriftSeconds * 1000 ? 'skewed' : 'ok',
  }
}
