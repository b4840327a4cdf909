/**
 * The access decision: one pure function over a rules snapshot, with no
 * database and no clock of its own. A door terminal that lost the network
 * decides with exactly this code on the snapshot it synced last; the server
 * decides online with the same code on a snapshot it builds at that moment
 * (app/access/services/access_snapshot.ts). docs/access-control.md
 * describes the snapshot format and the order of the checks.
 */
import { DateTime } from 'luxon'

/** Days of the week as ISO numbers: 1 is Monday, 7 is Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7

/**
 * A weekly time window in school time. When `to` is not after `from` the
 * window crosses midnight: it starts on each listed day and ends on the next
 * day ("Fri 22:00 – 02:00" covers Saturday 01:00). "24:00" ends at midnight.
 */
export interface TimeWindow {
  days: Weekday[]
  from: string
  to: string
}

/** Hours of one day, for holidays that replace the weekly windows. */
export interface DayWindow {
  from: string
  to: string
}

export const HOLIDAY_EFFECTS = ['closed', 'open', 'windows'] as const
export type HolidayEffect = (typeof HOLIDAY_EFFECTS)[number]

export const EXCEPTION_EFFECTS = ['allow', 'deny'] as const
export type ExceptionEffect = (typeof EXCEPTION_EFFECTS)[number]

export const POINT_DIRECTIONS = ['in', 'out'] as const
export type PointDirection = (typeof POINT_DIRECTIONS)[number]

/** What a door needs to decide offline. Every list is sorted, so equal rules give equal bytes. */
export interface AccessSnapshot {
  format: 1
  /** Grows whenever the content changes. */
  version: number
  point: { id: string; zone: string; direction: PointDirection; enabled: boolean }
  /** IANA time zone in which windows and holiday dates are read. */
  timeZone: string
  /** The enabled groups that grant the point's zone or a zone around it. */
  groups: { id: string; windows: TimeWindow[] }[]
  /**
   * Dates that change the windows: for every group (groups null) or the
   * listed ones. A window belongs to the day it starts on.
   */
  holidays: {
    from: string
    to: string
    effect: HolidayEffect
    windows: DayWindow[]
    groups: string[] | null
  }[]
  /** Per-person exceptions at the point's zone or a zone around it; times in Unix seconds. */
  exceptions: { person: string; effect: ExceptionEffect; from: number; until: number }[]
  /** Cards whose holders are in a group or have an exception, with their groups. */
  holders: { card: string; person: string; groups: string[] }[]
  /** Physical card UIDs bound to those cards. */
  uids: { uid: string; card: string }[]
  /** Those cards and UIDs that are on the blacklist. */
  blacklist: { cards: string[]; uids: string[] }
}

/** What was presented at the point. */
export type PresentedCredential =
  /** A campus code that verified (docs/campus-code.md §6): its card and permission tags. */
  | { kind: 'code'; cardNo: string; permissions: readonly string[] }
  /** A campus code that did not verify, with the verification error. */
  | { kind: 'code_refused'; error: string; cardNo?: string | null }
  /** A physical card, by its chip UID (upper-case hex). */
  | { kind: 'card'; uid: string }

export const ACCESS_REASONS = [
  'in_window',
  'person_allowed',
  'unknown_point',
  'point_disabled',
  'code_invalid',
  'no_access_permission',
  'card_unknown',
  'card_blacklisted',
  'person_denied',
  'not_in_group',
  'holiday_closed',
  'outside_window',
] as const
export type AccessReasonCode = (typeof ACCESS_REASONS)[number]

export interface AccessDecision {
  allowed: boolean
  /** A reason code; code_invalid carries the verification error: "code_invalid:code_expired". */
  reason: string
  cardNo: string | null
  /** The holder's person public id, when the snapshot knows the card. */
  person: string | null
  /** The group whose window let the holder in. */
  group: string | null
}

/** The reason code without a detail ("code_invalid:code_expired" → "code_invalid"). */
export function reasonCode(reason: string): string {
  const colon = reason.indexOf(':')
  return colon === -1 ? reason : reason.slice(0, colon)
}

/** "06:30" → 390; "24:00" → 1440; anything else → null. */
export function minutesOf(time: string): number | null {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(time)
  if (!match) return null
  const minutes = Number(match[1]) * 60 + Number(match[2])
  return minutes > 1440 ? null : minutes
}

interface PreparedRules {
  snapshot: AccessSnapshot
  groups: Map<string, TimeWindow[]>
  holders: Map<string, { person: string; groups: string[] }>
  uids: Map<string, string>
  blacklistedCards: Set<string>
  blacklistedUids: Set<string>
  exceptions: Map<string, { effect: ExceptionEffect; from: number; until: number }[]>
}

const prepared = new WeakMap<AccessSnapshot, PreparedRules>()

/** Indexes a snapshot once; later decisions on the same object reuse the indexes. */
function prepare(snapshot: AccessSnapshot): PreparedRules {
  const known = prepared.get(snapshot)
  if (known) return known
  const exceptions = new Map<string, { effect: ExceptionEffect; from: number; until: number }[]>()
  for (const exception of snapshot.exceptions) {
    const list = exceptions.get(exception.person) ?? []
    list.push(exception)
    exceptions.set(exception.person, list)
  }
  const rules: PreparedRules = {
    snapshot,
    groups: new Map(snapshot.groups.map((group) => [group.id, group.windows])),
    holders: new Map(snapshot.holders.map((holder) => [holder.card, holder])),
    uids: new Map(snapshot.uids.map((entry) => [entry.uid, entry.card])),
    blacklistedCards: new Set(snapshot.blacklist.cards),
    blacklistedUids: new Set(snapshot.blacklist.uids),
    exceptions,
  }
  prepared.set(snapshot, rules)
  return rules
}

/** Minute intervals [start, end) of one day; end may pass 1440 for a window crossing midnight. */
type Interval = [number, number]

function intervalOf(window: DayWindow): Interval | null {
  const from = minutesOf(window.from)
  const to = minutesOf(window.to)
  if (from === null || to === null || from === to || from >= 1440) return null
  return [from, to > from ? to : to + 1440]
}

/** The windows of a group that start on a date, with the holidays applied. */
function windowsStarting(
  rules: PreparedRules,
  groupId: string,
  date: DateTime
): { closed: boolean; intervals: Interval[] } {
  const day = date.toISODate()!
  const matching = rules.snapshot.holidays.filter(
    (holiday) =>
      holiday.from <= day &&
      day <= holiday.to &&
      (holiday.groups === null || holiday.groups.includes(groupId))
  )
  // A holiday set for this group outranks one set for every group.
  const specific = matching.filter((holiday) => holiday.groups !== null)
  const applying = specific.length > 0 ? specific : matching
  if (applying.length > 0) {
    if (applying.some((holiday) => holiday.effect === 'closed'))
      return { closed: true, intervals: [] }
    if (applying.some((holiday) => holiday.effect === 'open')) {
      return { closed: false, intervals: [[0, 1440]] }
    }
    const intervals = applying
      .flatMap((holiday) => holiday.windows)
      .map(intervalOf)
      .filter((interval): interval is Interval => interval !== null)
    return { closed: false, intervals }
  }
  const weekday = date.weekday as Weekday
  const intervals = (rules.groups.get(groupId) ?? [])
    .filter((window) => window.days.includes(weekday))
    .map(intervalOf)
    .filter((interval): interval is Interval => interval !== null)
  return { closed: false, intervals }
}

/** Whether one group lets its members in at this local time, and whether a holiday closed it. */
function groupAt(
  rules: PreparedRules,
  groupId: string,
  local: DateTime
): { open: boolean; closedToday: boolean } {
  const minute = local.hour * 60 + local.minute
  const today = windowsStarting(rules, groupId, local)
  if (today.intervals.some(([start, end]) => start <= minute && minute < end)) {
    return { open: true, closedToday: false }
  }
  // Windows that started yesterday and cross midnight.
  const yesterday = windowsStarting(rules, groupId, local.minus({ days: 1 }))
  const open = yesterday.intervals.some(
    ([start, end]) => end > 1440 && start <= minute + 1440 && minute + 1440 < end
  )
  return { open, closedToday: today.closed }
}

function decision(
  allowed: boolean,
  reason: string,
  cardNo: string | null,
  person: string | null = null,
  group: string | null = null
): AccessDecision {
  return { allowed, reason, cardNo, person, group }
}

/**
 * Decides whether the credential opens the snapshot's access point at `at`
 * (Unix seconds). Checks, first failure wins: the point, the credential
 * (verification, the access tag, a known card), the blacklist, a deny
 * exception, an allow exception (opens whatever the groups say), group
 * membership, holidays, the weekly windows. A null snapshot means the point
 * is unknown.
 */
export function decideAccess(
  snapshot: AccessSnapshot | null,
  presented: PresentedCredential,
  at: number
): AccessDecision {
  const presentedCard =
    presented.kind === 'code'
      ? presented.cardNo
      : presented.kind === 'code_refused'
        ? (presented.cardNo ?? null)
        : null
  if (!snapshot) return decision(false, 'unknown_point', presentedCard)
  if (!snapshot.point.enabled) return decision(false, 'point_disabled', presentedCard)
  const rules = prepare(snapshot)

  let cardNo: string
  if (presented.kind === 'code_refused') {
    const reason =
      presented.error === 'card_blacklisted'
        ? 'card_blacklisted'
        : `code_invalid:${presented.error}`
    const holder = presentedCard ? rules.holders.get(presentedCard) : undefined
    return decision(false, reason, presentedCard, holder?.person ?? null)
  } else if (presented.kind === 'code') {
    cardNo = presented.cardNo
    if (!presented.permissions.includes('access')) {
      return decision(
        false,
        'no_access_permission',
        cardNo,
        rules.holders.get(cardNo)?.person ?? null
      )
    }
  } else {
    if (rules.blacklistedUids.has(presented.uid)) return decision(false, 'card_blacklisted', null)
    const bound = rules.uids.get(presented.uid)
    if (!bound) return decision(false, 'card_unknown', null)
    cardNo = bound
  }

  const holder = rules.holders.get(cardNo)
  const person = holder?.person ?? null
  if (rules.blacklistedCards.has(cardNo)) return decision(false, 'card_blacklisted', cardNo, person)
  if (!holder) return decision(false, 'not_in_group', cardNo)

  const active = (rules.exceptions.get(holder.person) ?? []).filter(
    (exception) => exception.from <= at && at < exception.until
  )
  if (active.some((exception) => exception.effect === 'deny')) {
    return decision(false, 'person_denied', cardNo, person)
  }
  if (active.some((exception) => exception.effect === 'allow')) {
    return decision(true, 'person_allowed', cardNo, person)
  }

  const groups = holder.groups.filter((group) => rules.groups.has(group))
  if (groups.length === 0) return decision(false, 'not_in_group', cardNo, person)

  const local = DateTime.fromSeconds(at, { zone: snapshot.timeZone })
  let allClosed = true
  for (const group of groups) {
    const state = groupAt(rules, group, local)
    if (state.open) return decision(true, 'in_window', cardNo, person, group)
    if (!state.closedToday) allClosed = false
  }
  return decision(false, allClosed ? 'holiday_closed' : 'outside_window', cardNo, person)
}
