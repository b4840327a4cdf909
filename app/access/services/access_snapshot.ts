/**
 * Builds the rules snapshot of one access point from the database: what
 * its door needs to decide offline (docs/access-control.md §3). The server
 * builds the same snapshot, narrowed to the presented card, to decide
 * online, so both sides run decideAccess on the same data.
 */
import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { resolveAudience } from '#identity/services/audience_resolver'
import { readStoredRules } from '#identity/services/audience_rules'
import { schoolTimeZone, currentSchool } from '#appliance/services/school_settings'
import { dbDateTime } from '#cards/services/db_time'
import type { AccessSnapshot, DayWindow, TimeWindow } from '#access/services/access_decision'

/** Card states whose holders a door must know: frozen ones are known and blacklisted. */
const LIVE_CARD_STATES = ['pending_activation', 'active', 'frozen']

/** Ids per query, far below the bind-parameter limits of both databases. */
const CHUNK = 5000

function chunks<T>(values: T[]): T[][] {
  const out: T[][] = []
  for (let start = 0; start < values.length; start += CHUNK) {
    out.push(values.slice(start, start + CHUNK))
  }
  return out
}

/** The point as the snapshot and the event log need it. */
export interface PointRow {
  id: number
  publicId: string
  zoneId: number
  zonePublicId: string
  direction: 'in' | 'out'
  enabled: boolean
  terminalId: number | null
  /** The version of the rules last built for the point (0 before the first). */
  rulesVersion: number
}

/** The access point with this public id, or null. */
export async function findPoint(publicId: string): Promise<PointRow | null> {
  const row = await db
    .from('access_points')
    .join('access_zones', 'access_zones.id', 'access_points.zone_id')
    .leftJoin('access_snapshots', 'access_snapshots.point_id', 'access_points.id')
    .where('access_points.public_id', publicId.toUpperCase())
    .select(
      'access_points.id',
      'access_points.public_id',
      'access_points.zone_id',
      'access_points.direction',
      'access_points.enabled',
      'access_points.terminal_id',
      'access_zones.public_id as zone_public_id',
      'access_snapshots.version as rules_version'
    )
    .first()
  if (!row) return null
  return {
    id: Number(row.id),
    publicId: row.public_id,
    zoneId: Number(row.zone_id),
    zonePublicId: row.zone_public_id,
    direction: row.direction,
    enabled: row.enabled === true || row.enabled === 1,
    terminalId: row.terminal_id === null ? null : Number(row.terminal_id),
    rulesVersion: Number(row.rules_version ?? 0),
  }
}

/** The zone and every zone around it, innermost first. */
export async function zoneChain(zoneId: number): Promise<number[]> {
  const zones = await db.from('access_zones').select('id', 'parent_id')
  const parents = new Map(
    zones.map((zone) => [Number(zone.id), zone.parent_id === null ? null : Number(zone.parent_id)])
  )
  const chain: number[] = []
  let current: number | null = zoneId
  while (current !== null && !chain.includes(current)) {
    chain.push(current)
    current = parents.get(current) ?? null
  }
  return chain
}

export interface SnapshotScope {
  /** Only these cards (internal ids): the online decision for one presented card. */
  cardIds?: number[]
}

interface HolderCard {
  cardId: number
  cardNo: string
  person: string
  groups: Set<string>
}

/**
 * The snapshot's content for the point at `at` (Unix seconds), with
 * version 0; `snapshotForPoint` gives it its version.
 */
export async function buildAccessSnapshot(
  point: PointRow,
  at: number,
  scope: SnapshotScope = {}
): Promise<AccessSnapshot> {
  await currentSchool()
  const timeZone = schoolTimeZone()
  const chain = await zoneChain(point.zoneId)
  const nowText = dbDateTime(DateTime.fromSeconds(at), db.connection())

  const groupRows = await db
    .from('access_groups')
    .join('audiences', 'audiences.id', 'access_groups.audience_id')
    .where('access_groups.enabled', true)
    .whereIn(
      'access_groups.id',
      db.from('access_group_zones').whereIn('zone_id', chain).select('group_id')
    )
    .orderBy('access_groups.public_id')
    .select(
      'access_groups.id',
      'access_groups.public_id',
      'access_groups.windows',
      'audiences.rules'
    )

  const holders = new Map<number, HolderCard>()
  const addCard = (row: any, group: string | null) => {
    const cardId = Number(row.card_id)
    let holder = holders.get(cardId)
    if (!holder) {
      holder = { cardId, cardNo: row.card_no, person: row.person_public_id, groups: new Set() }
      holders.set(cardId, holder)
    }
    if (group) holder.groups.add(group)
  }
  const cardsOf = () => {
    const query = db
      .from('cards')
      .join('people', 'people.id', 'cards.person_id')
      .whereIn('cards.state', LIVE_CARD_STATES)
      .select('cards.id as card_id', 'cards.card_no', 'people.public_id as person_public_id')
    if (scope.cardIds) query.whereIn('cards.id', scope.cardIds.length > 0 ? scope.cardIds : [0])
    return query
  }

  // Narrowed to some cards, each audience is asked only about their holders.
  let scopedPeople: number[] | null = null
  if (scope.cardIds) {
    const rows = await db
      .from('cards')
      .whereIn('id', scope.cardIds.length > 0 ? scope.cardIds : [0])
      .select('person_id')
    scopedPeople = rows.map((row) => Number(row.person_id))
  }
  for (const group of groupRows) {
    const members = resolveAudience(readStoredRules(group.rules)).idsQuery()
    if (scopedPeople) members.whereIn('people.id', scopedPeople.length > 0 ? scopedPeople : [0])
    const rows = await cardsOf().whereIn('cards.person_id', members)
    for (const row of rows) addCard(row, group.public_id)
  }

  const exceptionRows = await db
    .from('access_exceptions')
    .join('people', 'people.id', 'access_exceptions.person_id')
    .whereIn('access_exceptions.zone_id', chain)
    .where('access_exceptions.ends_at', '>', nowText)
    .orderBy('people.public_id')
    .orderBy('access_exceptions.starts_at')
    .orderBy('access_exceptions.id')
    .select(
      'access_exceptions.person_id',
      'access_exceptions.effect',
      'access_exceptions.starts_at',
      'access_exceptions.ends_at',
      'people.public_id as person_public_id'
    )
  const exceptionPeople = [...new Set(exceptionRows.map((row) => Number(row.person_id)))]
  for (const ids of chunks(exceptionPeople)) {
    for (const row of await cardsOf().whereIn('cards.person_id', ids)) addCard(row, null)
  }

  const today = DateTime.fromSeconds(at, { zone: timeZone })
  const holidayRows = await db
    .from('access_holidays')
    .leftJoin('access_groups', 'access_groups.id', 'access_holidays.group_id')
    .where('access_holidays.ends_on', '>=', today.minus({ days: 1 }).toISODate()!)
    .where((query) => {
      query.whereNull('access_holidays.group_id').orWhereIn(
        'access_holidays.group_id',
        groupRows.map((group) => Number(group.id))
      )
    })
    .orderBy('access_holidays.starts_on')
    .orderBy('access_holidays.public_id')
    .select(
      'access_holidays.starts_on',
      'access_holidays.ends_on',
      'access_holidays.effect',
      'access_holidays.windows',
      'access_groups.public_id as group_public_id'
    )

  const cardIds = [...holders.keys()]
  const uids: { uid: string; card: string }[] = []
  const blacklist = { cards: [] as string[], uids: [] as string[] }
  const cardNoOf = (id: number) => holders.get(id)!.cardNo
  for (const ids of chunks(cardIds)) {
    const bound = await db
      .from('physical_cards')
      .whereIn('card_id', ids)
      .where('state', 'bound')
      .select('uid', 'card_id')
    for (const row of bound) uids.push({ uid: row.uid, card: cardNoOf(Number(row.card_id)) })
    const listed = await db
      .from('card_blacklist')
      .whereIn('card_id', ids)
      .whereNull('removed_version')
      .select('kind', 'uid', 'card_id')
    for (const row of listed) {
      if (row.kind === 'card') blacklist.cards.push(cardNoOf(Number(row.card_id)))
      else if (row.uid) blacklist.uids.push(row.uid)
    }
  }

  const seconds = (value: unknown) => {
    const time =
      value instanceof Date
        ? DateTime.fromJSDate(value)
        : DateTime.fromSQL(String(value), { zone: 'utc' }).isValid
          ? DateTime.fromSQL(String(value), { zone: 'utc' })
          : DateTime.fromISO(String(value), { zone: 'utc' })
    return Math.floor(time.toSeconds())
  }
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

  return {
    format: 1,
    version: 0,
    point: {
      id: point.publicId,
      zone: point.zonePublicId,
      direction: point.direction,
      enabled: point.enabled,
    },
    timeZone,
    groups: groupRows.map((group) => ({
      id: group.public_id,
      windows: JSON.parse(group.windows) as TimeWindow[],
    })),
    holidays: holidayRows.map((row) => ({
      from: row.starts_on,
      to: row.ends_on,
      effect: row.effect,
      windows: row.windows ? (JSON.parse(row.windows) as DayWindow[]) : [],
      groups: row.group_public_id ? [row.group_public_id] : null,
    })),
    exceptions: exceptionRows.map((row) => ({
      person: row.person_public_id,
      effect: row.effect,
      from: seconds(row.starts_at),
      until: seconds(row.ends_at),
    })),
    holders: [...holders.values()]
      .map((holder) => ({
        card: holder.cardNo,
        person: holder.person,
        groups: [...holder.groups].sort(byText),
      }))
      .sort((a, b) => byText(a.card, b.card)),
    uids: uids.sort((a, b) => byText(a.uid, b.uid)),
    blacklist: { cards: blacklist.cards.sort(byText), uids: blacklist.uids.sort(byText) },
  }
}

/** SHA-256 of the content (version excluded): the snapshot's ETag. */
export function snapshotDigest(snapshot: AccessSnapshot): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...snapshot, version: 0 }))
    .digest('hex')
}

/**
 * The full snapshot of the point at `at`, with its version and ETag. The
 * version grows by one each time the content differs from what was built
 * last, whatever changed it (a rule, an audience, a card, the date).
 */
export async function snapshotForPoint(
  point: PointRow,
  at: number = Math.floor(Date.now() / 1000)
): Promise<{ snapshot: AccessSnapshot; etag: string }> {
  const content = await buildAccessSnapshot(point, at)
  const etag = snapshotDigest(content)
  const version = await db.transaction(async (trx) => {
    const builtAt = dbDateTime(DateTime.utc(), trx)
    // The first build of a point inserts version 1; a concurrent first build meets the key.
    await trx
      .table('access_snapshots')
      .insert({ point_id: point.id, version: 1, etag, built_at: builtAt })
      .onConflict('point_id')
      .ignore()
    const row = await trx
      .from('access_snapshots')
      .where('point_id', point.id)
      .forUpdate()
      .select('version', 'etag')
      .firstOrFail()
    if (row.etag === etag) return Number(row.version)
    const next = Number(row.version) + 1
    await trx
      .from('access_snapshots')
      .where('point_id', point.id)
      .update({ version: next, etag, built_at: builtAt })
    return next
  })
  return { snapshot: { ...content, version }, etag }
}
