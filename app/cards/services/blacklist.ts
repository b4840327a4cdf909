import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { SYSTEM_ACTOR, type AuditActor } from '#core/services/audit'
import { readTime } from '#appliance/services/jobs'
import { MAX_CREDENTIAL_LIFETIME_SECONDS } from '#cards/campus_code/layout'
import { DEFAULT_CLOCK_SKEW_SECONDS } from '#cards/campus_code/verify'
import { dbDateTime } from '#cards/services/db_time'

/**
 * The blacklist terminals keep offline: cards that are frozen or revoked,
 * physical card UIDs that were lost or whose card ended, and the device keys
 * of phones a card was moved away from.
 *
 * Each addition and removal takes the next value of one counter in the
 * same transaction. On PostgreSQL the counter's row lock, on SQLite the
 * database's write lock, make the writers take turns until they commit, so
 * versions become visible in order: a reader that sees version N has every
 * change up to N.
 */

export const BLACKLIST_REASONS = [
  'lost',
  'admin',
  'risk',
  'revoked',
  'expired',
  'replaced',
] as const
export type BlacklistReason = (typeof BLACKLIST_REASONS)[number]

export type BlacklistKind = 'card' | 'physical' | 'device'

/** A subject of the blacklist: a card, a physical card's UID, or a device key (hex). */
export type BlacklistSubject =
  | { kind: 'card'; cardId: number }
  | { kind: 'physical'; uid: string; cardId: number }
  | { kind: 'device'; deviceKey: string; cardId: number }

function whereSubject(
  query: ReturnType<TransactionClientContract['from']>,
  subject:
    | { kind: 'card'; cardId: number }
    | { kind: 'physical'; uid: string }
    | { kind: 'device'; deviceKey: string }
) {
  if (subject.kind === 'card') query.where('card_id', subject.cardId)
  else if (subject.kind === 'physical') query.where('uid', subject.uid)
  else query.where('device_key', subject.deviceKey.toLowerCase())
  return query
}

/** Takes the next blacklist version inside the caller's transaction. */
async function nextVersion(trx: TransactionClientContract): Promise<number> {
  await trx.from('card_counters').where('name', 'blacklist').increment('value', 1)
  const row = await trx
    .from('card_counters')
    .where('name', 'blacklist')
    .select('value')
    .firstOrFail()
  return Number(row.value)
}

/** The version of the blacklist as committed now. */
export async function currentBlacklistVersion(
  client: TransactionClientContract | typeof db = db
): Promise<number> {
  const row = await client.from('card_counters').where('name', 'blacklist').select('value').first()
  return Number(row?.value ?? 0)
}

function actorLabel(actor: AuditActor): string | null {
  return (actor.name ?? actor.id ?? actor.type).slice(0, 100)
}

/**
 * Puts a card or a UID on the blacklist. A subject already listed keeps its
 * entry and version (terminals already refuse it); only its reason follows
 * the latest cause. Returns the new version, or null when nothing changed
 * for terminals.
 */
export async function addToBlacklist(
  trx: TransactionClientContract,
  subject: BlacklistSubject,
  reason: BlacklistReason,
  actor: AuditActor
): Promise<number | null> {
  const listed = whereSubject(
    trx.from('card_blacklist').where('kind', subject.kind).whereNull('removed_version'),
    subject
  )
  const existing = await listed.select('id', 'reason').first()
  if (existing) {
    if (existing.reason !== reason)
      await trx.from('card_blacklist').where('id', existing.id).update({ reason })
    return null
  }
  const version = await nextVersion(trx)
  await trx.table('card_blacklist').insert({
    kind: subject.kind,
    card_id: subject.cardId,
    uid: subject.kind === 'physical' ? subject.uid : null,
    device_key: subject.kind === 'device' ? subject.deviceKey.toLowerCase() : null,
    reason,
    added_version: version,
    added_at: dbDateTime(DateTime.utc(), trx),
    added_by: actorLabel(actor),
  })
  return version
}

/**
 * Takes a card or a UID off the blacklist; `onlyReasons` leaves entries
 * listed for another cause alone (unfreezing a card does not clear a UID
 * that was reported lost). Returns the new version, or null when it was not listed.
 */
export async function removeFromBlacklist(
  trx: TransactionClientContract,
  subject:
    | { kind: 'card'; cardId: number }
    | { kind: 'physical'; uid: string }
    | { kind: 'device'; deviceKey: string },
  actor: AuditActor,
  onlyReasons?: readonly BlacklistReason[]
): Promise<number | null> {
  const listed = whereSubject(
    trx.from('card_blacklist').where('kind', subject.kind).whereNull('removed_version'),
    subject
  )
  if (onlyReasons) listed.whereIn('reason', [...onlyReasons])
  const existing = await listed.select('id').first()
  if (!existing) return null
  const version = await nextVersion(trx)
  await trx
    .from('card_blacklist')
    .where('id', existing.id)
    .update({
      removed_version: version,
      removed_at: dbDateTime(DateTime.utc(), trx),
      removed_by: actorLabel(actor),
    })
  return version
}

/**
 * Takes off the blacklist the device keys whose every credential has
 * expired: a credential lives at most 7 days, and the phone's key was listed
 * when it stopped getting new ones. Returns how many were removed.
 */
export async function retireSpentDeviceEntries(now = DateTime.utc()): Promise<number> {
  const spentBefore = now.minus({
    seconds: MAX_CREDENTIAL_LIFETIME_SECONDS + DEFAULT_CLOCK_SKEW_SECONDS + 3600,
  })
  const rows = await db
    .from('card_blacklist')
    .where('kind', 'device')
    .whereNull('removed_version')
    .where('added_at', '<', dbDateTime(spentBefore, db.connection()))
    .select('device_key')
    .limit(1000)
  for (const row of rows) {
    await db.transaction((trx) =>
      removeFromBlacklist(trx, { kind: 'device', deviceKey: row.device_key }, SYSTEM_ACTOR)
    )
  }
  return rows.length
}

/** The reason a UID is listed for, or null. */
export async function uidListing(
  trx: TransactionClientContract,
  uid: string
): Promise<BlacklistReason | null> {
  const row = await trx
    .from('card_blacklist')
    .where('kind', 'physical')
    .where('uid', uid)
    .whereNull('removed_version')
    .select('reason')
    .first()
  return row?.reason ?? null
}

/** One blacklist entry as a terminal sees it. */
export interface BlacklistItem {
  kind: BlacklistKind
  /** The card's public id (card entries, and the card a UID was bound to). */
  cardId: string | null
  cardNo: string | null
  uid: string | null
  /** Device entries: the device's Ed25519 public key, hex. */
  deviceKey: string | null
  reason: BlacklistReason
  version: number
}

export interface BlacklistDelta {
  added: BlacklistItem[]
  removed: BlacklistItem[]
  currentVersion: number
}

function item(row: any, version: number): BlacklistItem {
  return {
    kind: row.kind,
    cardId: row.card_public_id ?? null,
    cardNo: row.card_no ?? null,
    uid: row.uid ?? null,
    deviceKey: row.device_key ?? null,
    reason: row.reason,
    version,
  }
}

/**
 * What changed on the blacklist after `version`, up to the current
 * version: entries added and still listed, and entries removed that the
 * terminal had. An entry added and removed within the span concerns the
 * terminal not at all. Version 0 gives the whole current list.
 */
export async function blacklistSince(version: number): Promise<BlacklistDelta> {
  const since = Math.max(0, Math.floor(Number(version) || 0))
  const currentVersion = await currentBlacklistVersion()
  const base = () =>
    db
      .from('card_blacklist')
      .leftJoin('cards', 'cards.id', 'card_blacklist.card_id')
      .select(
        'card_blacklist.kind',
        'card_blacklist.uid',
        'card_blacklist.device_key',
        'card_blacklist.reason',
        'card_blacklist.added_version',
        'card_blacklist.removed_version',
        'cards.public_id as card_public_id',
        'cards.card_no'
      )
  if (since >= currentVersion) return { added: [], removed: [], currentVersion }
  const added = await base()
    .where('card_blacklist.added_version', '>', since)
    .where('card_blacklist.added_version', '<=', currentVersion)
    .where((still) =>
      still
        .whereNull('card_blacklist.removed_version')
        .orWhere('card_blacklist.removed_version', '>', currentVersion)
    )
    .orderBy('card_blacklist.added_version')
  const removed = await base()
    .where('card_blacklist.removed_version', '>', since)
    .where('card_blacklist.removed_version', '<=', currentVersion)
    .where('card_blacklist.added_version', '<=', since)
    .orderBy('card_blacklist.removed_version')
  return {
    added: added.map((row) => item(row, Number(row.added_version))),
    removed: removed.map((row) => item(row, Number(row.removed_version))),
    currentVersion,
  }
}

/** A blacklist row for the console. */
export interface BlacklistRow {
  id: number
  kind: BlacklistKind
  cardPublicId: string | null
  cardNo: string | null
  personName: string | null
  personNo: string | null
  uid: string | null
  deviceKey: string | null
  reason: BlacklistReason
  addedVersion: number
  removedVersion: number | null
  addedAt: DateTime | null
  removedAt: DateTime | null
  addedBy: string | null
  removedBy: string | null
}

export const BLACKLIST_PER_PAGE = 50

/** One page of the blacklist for the console, newest change first. */
export async function listBlacklist(
  filters: { kind?: BlacklistKind; listed?: 'current' | 'removed'; q?: string },
  page = 1
) {
  const query = db
    .from('card_blacklist')
    .leftJoin('cards', 'cards.id', 'card_blacklist.card_id')
    .leftJoin('people', 'people.id', 'cards.person_id')
    .select(
      'card_blacklist.*',
      'cards.public_id as card_public_id',
      'cards.card_no',
      'people.name as person_name',
      'people.person_no'
    )
    .orderBy('card_blacklist.id', 'desc')
  if (filters.kind) query.where('card_blacklist.kind', filters.kind)
  if (filters.listed === 'removed') query.whereNotNull('card_blacklist.removed_version')
  else if (filters.listed === 'current') query.whereNull('card_blacklist.removed_version')
  const term = filters.q
    ?.trim()
    .toUpperCase()
    .replace(/[\s:-]+/g, '')
  if (term) {
    query.where((match) =>
      match
        .where('card_blacklist.uid', term)
        .orWhere('cards.card_no', term)
        .orWhere('people.person_no', term)
    )
  }
  const paginator = await query.paginate(page, BLACKLIST_PER_PAGE)
  const rows: BlacklistRow[] = paginator.all().map((row: any) => ({
    id: Number(row.id),
    kind: row.kind,
    cardPublicId: row.card_public_id ?? null,
    cardNo: row.card_no ?? null,
    personName: row.person_name ?? null,
    personNo: row.person_no ?? null,
    uid: row.uid ?? null,
    deviceKey: row.device_key ?? null,
    reason: row.reason,
    addedVersion: Number(row.added_version),
    removedVersion: row.removed_version === null ? null : Number(row.removed_version),
    addedAt: readTime(row.added_at),
    removedAt: readTime(row.removed_at),
    addedBy: row.added_by ?? null,
    removedBy: row.removed_by ?? null,
  }))
  return { paginator, rows }
}
