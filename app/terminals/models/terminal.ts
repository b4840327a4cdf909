import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { newPublicId } from '#core/services/ids'

export const TERMINAL_KINDS = ['pos', 'gate', 'door', 'checkin', 'kiosk'] as const
export type TerminalKind = (typeof TERMINAL_KINDS)[number]

export const TERMINAL_STATUSES = ['pending', 'active', 'revoked'] as const
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number]

export function isTerminalKind(value: unknown): value is TerminalKind {
  return typeof value === 'string' && (TERMINAL_KINDS as readonly string[]).includes(value)
}

const nullableNumber = {
  consume: (value: unknown) => (value === null || value === undefined ? null : Number(value)),
}

/**
 * A device that talks to the terminal gateway: a POS till, a gate, a door
 * controller, a check-in station or a kiosk (docs/terminal-protocol.md).
 * Identified on the wire by its client certificate's SHA-256 fingerprint,
 * and to people and other modules by its public id.
 */
export default class Terminal extends BaseModel {
  static table = 'terminals'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare name: string

  @column()
  declare kind: TerminalKind

  @column()
  declare location: string | null

  /** The merchants module's shop (a POS till's shop), or null. */
  @column({ serializeAs: null })
  declare shopId: number | null

  @column()
  declare firmwareVersion: string | null

  /** Model or vendor string the terminal reports. */
  @column()
  declare model: string | null

  @column()
  declare status: TerminalStatus

  @column()
  declare certificateSerial: string | null

  /** SHA-256 of the client certificate DER, lower-case hex. */
  @column()
  declare certificateFingerprint: string | null

  @column.dateTime()
  declare certificateExpiresAt: DateTime | null

  @column({ serializeAs: null })
  declare enrollmentCodeHash: string | null

  @column.dateTime()
  declare enrollmentExpiresAt: DateTime | null

  @column.dateTime()
  declare enrolledAt: DateTime | null

  @column.dateTime()
  declare revokedAt: DateTime | null

  @column()
  declare revokedReason: string | null

  @column.dateTime()
  declare lastSeenAt: DateTime | null

  @column()
  declare lastAddress: string | null

  /** Terminal clock minus server clock at the last heartbeat, in milliseconds. */
  @column(nullableNumber)
  declare clockDriftMs: number | null

  /** Highest terminal sequence number accepted from an offline upload. */
  @column({ consume: Number })
  declare lastUploadedSequence: number

  /** Offline records the terminal reported holding at its last heartbeat. */
  @column(nullableNumber)
  declare pendingOfflineRecords: number | null

  @column(nullableNumber)
  declare blacklistVersion: number | null

  @column.dateTime()
  declare lastSyncedAt: DateTime | null

  @column(nullableNumber)
  declare offlineCountPerDay: number | null

  @column(nullableNumber)
  declare offlineAmountPerDay: number | null

  @column(nullableNumber)
  declare offlineSingleAmount: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignPublicId(terminal: Terminal) {
    terminal.publicId ??= newPublicId()
  }
}
