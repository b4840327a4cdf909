/**
 * The access decision on a snapshot, with no database: the matrix of
 * group membership, weekly windows (across midnight too), holidays,
 * exceptions and the blacklist, in the school's time zone.
 */
import test from 'ava'
import { DateTime } from 'luxon'
import {
  decideAccess,
  reasonCode,
  type AccessSnapshot,
  type PresentedCredential,
} from '#access/services/access_decision'
import { accessWindows, holidayWindows } from '#access/services/access_rules'

const ZONE = 'Asia/Shanghai'

/** Unix seconds of a school-time moment, "2026-12-07 06:30" (a Monday). */
function at(local: string): number {
  return Math.floor(DateTime.fromFormat(local, 'yyyy-MM-dd HH:mm', { zone: ZONE }).toSeconds())
}

function snapshot(overrides: Partial<AccessSnapshot> = {}): AccessSnapshot {
  return {
    format: 1,
    version: 3,
    point: { id: 'P', zone: 'Z', direction: 'in', enabled: true },
    timeZone: ZONE,
    groups: [
      // 本科生宿舍楼 06:00–23:30 every day
      { id: 'DORM', windows: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '06:00', to: '23:30' }] },
      // Night shift: Friday 22:00 to Saturday 02:00
      { id: 'NIGHT', windows: [{ days: [5], from: '22:00', to: '02:00' }] },
    ],
    holidays: [],
    exceptions: [],
    holders: [
      { card: '100000000001', person: 'ALICE', groups: ['DORM'] },
      { card: '100000000002', person: 'BOB', groups: ['NIGHT'] },
      { card: '100000000003', person: 'CAROL', groups: [] },
      { card: '100000000004', person: 'DAN', groups: ['DORM'] },
    ],
    uids: [
      { uid: '04A22B3C', card: '100000000001' },
      { uid: '04A22B3D', card: '100000000004' },
    ],
    blacklist: { cards: ['100000000004'], uids: ['0BADBADB'] },
    ...overrides,
  }
}

const code = (cardNo: string, permissions = ['payment', 'access']): PresentedCredential => ({
  kind: 'code',
  cardNo,
  permissions,
})

test('a member inside the window is let in; outside it is not', (t) => {
  const rules = snapshot()
  const inside = decideAccess(rules, code('100000000001'), at('2026-12-07 06:00'))
  t.deepEqual(inside, {
    allowed: true,
    reason: 'in_window',
    cardNo: '100000000001',
    person: 'ALICE',
    group: 'DORM',
  })
  t.is(decideAccess(rules, code('100000000001'), at('2026-12-07 05:59')).reason, 'outside_window')
  t.is(decideAccess(rules, code('100000000001'), at('2026-12-07 23:29')).reason, 'in_window')
  t.is(decideAccess(rules, code('100000000001'), at('2026-12-07 23:30')).reason, 'outside_window')
})

test('people in no group of the zone, or unknown cards, are not in the group', (t) => {
  const rules = snapshot()
  t.is(decideAccess(rules, code('100000000003'), at('2026-12-07 12:00')).reason, 'not_in_group')
  t.is(decideAccess(rules, code('999999999999'), at('2026-12-07 12:00')).reason, 'not_in_group')
  t.false(decideAccess(rules, code('999999999999'), at('2026-12-07 12:00')).allowed)
})

test('a window crossing midnight belongs to the day it starts on', (t) => {
  const rules = snapshot()
  // Friday 2026-12-11 22:00 → Saturday 02:00.
  t.is(decideAccess(rules, code('100000000002'), at('2026-12-11 21:59')).reason, 'outside_window')
  t.is(decideAccess(rules, code('100000000002'), at('2026-12-11 22:00')).reason, 'in_window')
  t.is(decideAccess(rules, code('100000000002'), at('2026-12-12 01:59')).reason, 'in_window')
  t.is(decideAccess(rules, code('100000000002'), at('2026-12-12 02:00')).reason, 'outside_window')
  // Thursday night is not Friday night.
  t.is(decideAccess(rules, code('100000000002'), at('2026-12-11 01:00')).reason, 'outside_window')
})

test('holidays close, open all day or replace the hours, for one group or all', (t) => {
  const closed = snapshot({
    holidays: [
      { from: '2026-12-07', to: '2026-12-08', effect: 'closed', windows: [], groups: null },
    ],
  })
  t.is(decideAccess(closed, code('100000000001'), at('2026-12-07 12:00')).reason, 'holiday_closed')
  t.is(decideAccess(closed, code('100000000001'), at('2026-12-09 12:00')).reason, 'in_window')

  const hours = snapshot({
    holidays: [
      { from: '2026-12-07', to: '2026-12-07', effect: 'closed', windows: [], groups: null },
      {
        from: '2026-12-07',
        to: '2026-12-07',
        effect: 'windows',
        windows: [{ from: '08:00', to: '12:00' }],
        groups: ['DORM'],
      },
    ],
  })
  // The group's own holiday outranks the one for every group.
  t.is(decideAccess(hours, code('100000000001'), at('2026-12-07 09:00')).reason, 'in_window')
  t.is(decideAccess(hours, code('100000000001'), at('2026-12-07 13:00')).reason, 'outside_window')

  const open = snapshot({
    holidays: [{ from: '2026-12-07', to: '2026-12-07', effect: 'open', windows: [], groups: null }],
  })
  t.is(decideAccess(open, code('100000000001'), at('2026-12-07 03:00')).reason, 'in_window')

  // A closure on Saturday does not end a window that began on Friday night.
  const saturday = snapshot({
    holidays: [
      { from: '2026-12-12', to: '2026-12-12', effect: 'closed', windows: [], groups: null },
    ],
  })
  t.is(decideAccess(saturday, code('100000000002'), at('2026-12-12 01:00')).reason, 'in_window')
  t.is(
    decideAccess(saturday, code('100000000002'), at('2026-12-12 03:00')).reason,
    'holiday_closed'
  )
})

test('exceptions: deny wins over everything else, allow over the groups, both end on time', (t) => {
  const from = at('2026-12-01 00:00')
  const until = at('2026-12-10 00:00')
  const rules = snapshot({
    exceptions: [
      { person: 'ALICE', effect: 'deny', from, until },
      { person: 'CAROL', effect: 'allow', from, until },
    ],
  })
  t.is(decideAccess(rules, code('100000000001'), at('2026-12-07 12:00')).reason, 'person_denied')
  t.is(decideAccess(rules, code('100000000001'), at('2026-12-10 12:00')).reason, 'in_window')
  const allowed = decideAccess(rules, code('100000000003'), at('2026-12-07 03:00'))
  t.true(allowed.allowed)
  t.is(allowed.reason, 'person_allowed')
  t.is(decideAccess(rules, code('100000000003'), at('2026-12-10 03:00')).reason, 'not_in_group')
})

test('blacklisted cards and UIDs, unknown UIDs, refused codes and codes without the access tag', (t) => {
  const rules = snapshot()
  const noon = at('2026-12-07 12:00')
  t.is(decideAccess(rules, code('100000000004'), noon).reason, 'card_blacklisted')
  t.is(decideAccess(rules, { kind: 'card', uid: '04A22B3D' }, noon).reason, 'card_blacklisted')
  t.is(decideAccess(rules, { kind: 'card', uid: '0BADBADB' }, noon).reason, 'card_blacklisted')
  t.is(decideAccess(rules, { kind: 'card', uid: '04A22B3C' }, noon).reason, 'in_window')
  t.is(decideAccess(rules, { kind: 'card', uid: '04FFFFFF' }, noon).reason, 'card_unknown')
  const refused = decideAccess(
    rules,
    { kind: 'code_refused', error: 'code_expired', cardNo: '100000000001' },
    noon
  )
  t.is(refused.reason, 'code_invalid:code_expired')
  t.is(reasonCode(refused.reason), 'code_invalid')
  t.is(
    decideAccess(rules, { kind: 'code_refused', error: 'card_blacklisted' }, noon).reason,
    'card_blacklisted'
  )
  t.is(decideAccess(rules, code('100000000001', ['payment']), noon).reason, 'no_access_permission')
})

test('an unknown or disabled point opens for nobody', (t) => {
  const noon = at('2026-12-07 12:00')
  t.is(decideAccess(null, code('100000000001'), noon).reason, 'unknown_point')
  const disabled = snapshot({ point: { id: 'P', zone: 'Z', direction: 'in', enabled: false } })
  t.is(decideAccess(disabled, code('100000000001'), noon).reason, 'point_disabled')
})

test('windows from forms: blank rows dropped, bad rows refused', (t) => {
  const windows = accessWindows([
    { days: ['1', '2', '3', '4', '5'], from: '6:00', to: '23:30' },
    { days: [], from: '', to: '' },
    { days: '6', from: '22:00', to: '02:00' },
  ])
  t.deepEqual(windows, {
    ok: true,
    value: [
      { days: [1, 2, 3, 4, 5], from: '06:00', to: '23:30' },
      { days: [6], from: '22:00', to: '02:00' },
    ],
  })
  t.false(accessWindows([{ days: ['1'], from: '08:00', to: '08:00' }]).ok)
  t.false(accessWindows([{ days: [], from: '08:00', to: '09:00' }]).ok)
  t.false(accessWindows([{ days: ['1'], from: '25:00', to: '09:00' }]).ok)
  t.true(holidayWindows([{ from: '00:00', to: '24:00' }]).ok)
})
