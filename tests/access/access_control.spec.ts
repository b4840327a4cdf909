/**
 * Access control end to end: online decisions through the action with
 * real campus codes and physical cards, the rules snapshot a door decides
 * from offline (the same answers), its version and ETag, idempotent upload
 * of offline decisions, and the console pages and export over HTTP.
 */
import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'
import type { HolderDevice } from '../cards/code_fixtures.js'

let quad: TestApp
let admin: GivenAdmin
let auditor: GivenAdmin
let people: Map<string, Person>
const devices = new Map<string, HolderDevice>()
const cards = new Map<string, { id: number; cardNo: string; publicId: string }>()
let pointId: string
let outerZone: string
let innerZone: string
let groupId: string

const ZONE = 'Asia/Shanghai'
const SYSTEM = { type: 'system' as const, name: 'access-test' }

/** Unix seconds of tomorrow (school time) at hh:mm: inside every credential's validity. */
function tomorrowAt(time: string, days = 1): number {
  const [hour, minute] = time.split(':').map(Number)
  return Math.floor(
    DateTime.now()
      .setZone(ZONE)
      .plus({ days })
      .set({ hour, minute, second: 0, millisecond: 0 })
      .toSeconds()
  )
}

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople, givenAccount } = await import('../cards/fixtures.js')
  const { givenCard, givenHolderDevice } = await import('../cards/code_fixtures.js')
  await givenSchool({ timeZone: ZONE })
  admin = await givenAccount('super_admin')
  auditor = await givenAccount('auditor')
  people = await givenPeople([
    { no: 'A001', name: '张一' },
    { no: 'A002', name: '王二' },
    { no: 'B001', name: '李三' },
  ])
  for (const no of ['A001', 'A002', 'B001']) {
    const card = await givenCard(people.get(no)!.id, 'student')
    cards.set(no, { id: card.id, cardNo: card.cardNo, publicId: card.publicId })
    devices.set(no, await givenHolderDevice(card.cardNo))
  }

  const { CreateAudience } = await import('#identity/actions/audience_create')
  const audience = await new CreateAudience().handle(SYSTEM, {
    name: '本科生住宿生',
    rules: { include: ['A001', 'A002'] },
  })
  if (!audience.ok) throw new Error(audience.error)

  const { SaveZone } = await import('#access/actions/save_zone')
  const { SavePoint } = await import('#access/actions/save_point')
  const { SaveGroup } = await import('#access/actions/save_group')
  const campus = await new SaveZone().handle({ code: 'north', name: '北校区' }, SYSTEM)
  if (!campus.ok) throw new Error(campus.error)
  outerZone = campus.value.publicId
  const dorm = await new SaveZone().handle(
    { code: 'DORM-1', name: '1 号宿舍楼', parent: outerZone },
    SYSTEM
  )
  if (!dorm.ok) throw new Error(dorm.error)
  innerZone = dorm.value.publicId
  const point = await new SavePoint().handle(
    {
      code: 'DORM-1-IN',
      name: '1 号楼正门（进）',
      zone: innerZone,
      kind: 'door',
      direction: 'in',
      enabled: true,
    },
    SYSTEM
  )
  if (!point.ok) throw new Error(point.error)
  pointId = point.value.publicId
  // Granted on the campus: the dorm inside it is covered too.
  const group = await new SaveGroup().handle(
    {
      name: '本科生宿舍楼',
      audience: audience.value.publicId,
      zones: [outerZone],
      windows: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '06:00', to: '23:30' }],
      enabled: true,
    },
    SYSTEM
  )
  if (!group.ok) throw new Error(group.error)
  groupId = group.value.publicId
})

test.after.always(async () => {
  await quad?.close()
})

async function codeFor(no: string, at: number) {
  const { codeOf } = await import('../cards/code_fixtures.js')
  return codeOf(devices.get(no)!, at)
}

async function decideOnline(input: { code?: string; uid?: string; at: number; point?: string }) {
  const { DecideAccess } = await import('#access/actions/decide_access')
  const result = await new DecideAccess().handle({ point: pointId, ...input })
  if (!result.ok) throw new Error(result.error)
  return result.value
}

async function eventRow(id: number) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db.from('access_events').where('id', id).first()
}

test.serial('online: a campus code opens the door in the window and is logged', async (t) => {
  const noon = tomorrowAt('12:00')
  const code = await codeFor('A001', noon)
  const outcome = await decideOnline({ code, at: noon })
  t.true(outcome.decision.allowed)
  t.is(outcome.decision.reason, 'in_window')
  t.is(outcome.decision.group, groupId)
  t.is(outcome.decision.person, people.get('A001')!.publicId)
  const row = await eventRow(outcome.eventId)
  t.is(Number(row.person_id), people.get('A001')!.id)
  t.is(row.card_no, cards.get('A001')!.cardNo)
  t.is(row.mode, 'online')
  t.is(row.credential, 'code')
  t.is(row.direction, 'in')
  t.truthy(row.allowed)
  t.is(Math.floor(DateTime.fromJSDate(new Date(row.occurred_at)).toSeconds()) > 0, true)

  // The same code again is a replay, refused and logged.
  const again = await decideOnline({ code, at: noon + 5 })
  t.false(again.decision.allowed)
  t.is(again.decision.reason, 'code_invalid:code_replayed')
  t.is((await eventRow(again.eventId)).reason, 'code_invalid:code_replayed')
})

test.serial(
  'online: outside the window, outside the group, blacklisted, unknown point',
  async (t) => {
    const night = tomorrowAt('03:00')
    const late = await decideOnline({ code: await codeFor('A001', night), at: night })
    t.is(late.decision.reason, 'outside_window')
    const noon = tomorrowAt('12:00')
    const stranger = await decideOnline({ code: await codeFor('B001', noon), at: noon })
    t.is(stranger.decision.reason, 'not_in_group')
    t.is(stranger.decision.cardNo, cards.get('B001')!.cardNo)

    const { FreezeCard } = await import('#cards/actions/freeze_card')
    const frozen = await new FreezeCard().handle(
      { card: { id: cards.get('A002')!.id }, by: 'admin', reason: 'admin', note: '门禁测试冻结' },
      SYSTEM
    )
    t.true(frozen.ok)
    const listed = await decideOnline({ code: await codeFor('A002', noon), at: noon })
    t.is(listed.decision.reason, 'card_blacklisted')

    const nowhere = await decideOnline({
      code: await codeFor('A001', noon),
      at: noon,
      point: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    })
    t.is(nowhere.decision.reason, 'unknown_point')
    t.is((await eventRow(nowhere.eventId)).point_id, null)
  }
)

test.serial('online: physical cards by UID, known or not', async (t) => {
  const { BindPhysicalCard } = await import('#cards/actions/bind_physical_card')
  const bound = await new BindPhysicalCard().handle(
    { card: { id: cards.get('A001')!.id }, uid: '04:a2:2b:3c' },
    SYSTEM
  )
  t.true(bound.ok)
  const noon = tomorrowAt('12:00')
  const known = await decideOnline({ uid: '04a22b3c', at: noon })
  t.true(known.decision.allowed)
  t.is(known.decision.cardNo, cards.get('A001')!.cardNo)
  t.is((await eventRow(known.eventId)).uid, '04A22B3C')
  const unknown = await decideOnline({ uid: '04FFFFFF', at: noon })
  t.is(unknown.decision.reason, 'card_unknown')
  const { DecideAccess } = await import('#access/actions/decide_access')
  const missing = await new DecideAccess().handle({ point: pointId })
  t.deepEqual(missing, { ok: false, error: 'credential_missing', details: undefined })
})

test.serial(
  'the synced snapshot decides offline exactly as the server decides online',
  async (t) => {
    const { findPoint, snapshotForPoint } = await import('#access/services/access_snapshot')
    const { decideAccess } = await import('#access/services/access_decision')
    const { presentedCode } = await import('#access/services/presented_code')
    const { blacklistOf, verifyCode } = await import('#cards/campus_code/index')
    const { issuerKeyRing } = await import('#cards/services/issuer_signing')
    const { SaveHoliday } = await import('#access/actions/save_holiday')
    const { SaveException } = await import('#access/actions/save_exception')

    const dayAfter = DateTime.now().setZone(ZONE).plus({ days: 2 }).toISODate()!
    const holiday = await new SaveHoliday().handle(
      { name: '校庆', startsOn: dayAfter, endsOn: dayAfter, effect: 'closed', group: groupId },
      SYSTEM
    )
    t.true(holiday.ok)
    const allow = await new SaveException().handle(
      {
        personNo: 'B001',
        zone: outerZone,
        effect: 'allow',
        endsAt: DateTime.now().plus({ days: 1, hours: 6 }),
      },
      SYSTEM
    )
    t.true(allow.ok)

    const point = (await findPoint(pointId))!
    const { snapshot } = await snapshotForPoint(point)
    t.true(snapshot.holders.some((holder) => holder.card === cards.get('B001')!.cardNo))
    t.deepEqual(snapshot.blacklist.cards, [cards.get('A002')!.cardNo])
    t.deepEqual(snapshot.uids, [{ uid: '04A22B3C', card: cards.get('A001')!.cardNo }])

    const ring = await issuerKeyRing()
    const offline = async (no: string, at: number) => {
      const text = await codeFor(no, at)
      const verified = await verifyCode(text, {
        issuerKeys: ring,
        now: at,
        isBlacklisted: blacklistOf({ cardNos: snapshot.blacklist.cards }),
      })
      return decideAccess(snapshot, presentedCode(verified, text), at)
    }
    const cases: [string, number][] = [
      ['A001', tomorrowAt('12:00')],
      ['A001', tomorrowAt('03:00')],
      ['A001', tomorrowAt('12:00', 2)],
      ['A002', tomorrowAt('12:00')],
      ['B001', tomorrowAt('03:00')],
      ['B001', tomorrowAt('12:00', 2)],
    ]
    const reasons: string[] = []
    for (const [no, at] of cases) {
      const local = await offline(no, at)
      const online = await decideOnline({ code: await codeFor(no, at), at })
      t.deepEqual(local, online.decision, `${no} at ${at}`)
      reasons.push(local.reason)
    }
    t.deepEqual(reasons, [
      'in_window',
      'outside_window',
      'holiday_closed',
      'card_blacklisted',
      'person_allowed',
      'not_in_group',
    ])
    const uidCase = tomorrowAt('12:00')
    t.deepEqual(
      decideAccess(snapshot, { kind: 'card', uid: '04A22B3C' }, uidCase),
      (await decideOnline({ uid: '04A22B3C', at: uidCase })).decision
    )
  }
)

test.serial('the snapshot version and ETag move only when the content changes', async (t) => {
  const { findPoint, snapshotForPoint } = await import('#access/services/access_snapshot')
  const point = (await findPoint(pointId))!
  const first = await snapshotForPoint(point)
  const second = await snapshotForPoint(point)
  t.is(second.snapshot.version, first.snapshot.version)
  t.is(second.etag, first.etag)
  const { SaveException } = await import('#access/actions/save_exception')
  const deny = await new SaveException().handle(
    { personNo: 'A001', zone: innerZone, effect: 'deny', endsAt: DateTime.now().plus({ days: 3 }) },
    SYSTEM
  )
  t.true(deny.ok)
  const third = await snapshotForPoint(point)
  t.is(third.snapshot.version, first.snapshot.version + 1)
  t.not(third.etag, first.etag)
  t.true(third.snapshot.exceptions.some((exception) => exception.effect === 'deny'))
  const noon = tomorrowAt('12:00')
  t.is(
    (await decideOnline({ code: await codeFor('A001', noon), at: noon })).decision.reason,
    'person_denied'
  )
  const { EndException } = await import('#access/actions/end_exception')
  t.true(
    (await new EndException().handle({ exception: deny.ok ? deny.value.publicId : '' }, SYSTEM)).ok
  )
})

test.serial('offline uploads are recorded once, per terminal and sequence', async (t) => {
  const { default: Terminal } = await import('#terminals/models/terminal')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { SavePoint } = await import('#access/actions/save_point')
  const { IngestAccessEvents } = await import('#access/actions/ingest_access_events')
  const terminal = await Terminal.create({
    name: '1 号楼门禁',
    kind: 'door',
    status: 'active',
  } as any)
  const other = await Terminal.create({ name: '2 号楼门禁', kind: 'door', status: 'active' } as any)
  const linked = await new SavePoint().handle(
    {
      point: pointId,
      code: 'DORM-1-IN',
      name: '1 号楼正门（进）',
      zone: innerZone,
      kind: 'door',
      direction: 'in',
      terminal: terminal.publicId,
      enabled: true,
    },
    SYSTEM
  )
  t.true(linked.ok)

  const at = Math.floor(Date.now() / 1000) - 600
  const records = [
    {
      seq: 1,
      point: pointId,
      at,
      credential: 'code' as const,
      cardNo: cards.get('A001')!.cardNo,
      allowed: true,
      reason: 'in_window',
      rulesVersion: 2,
    },
    {
      seq: 2,
      point: pointId,
      at: at + 1,
      credential: 'card' as const,
      uid: '04:A2:2B:3C',
      allowed: true,
      reason: 'in_window',
    },
    {
      seq: 3,
      point: pointId,
      at: at + 2,
      credential: 'code' as const,
      allowed: false,
      reason: 'code_invalid:code_expired',
    },
    {
      seq: 4,
      point: pointId,
      at: at + 3,
      credential: 'code' as const,
      allowed: false,
      reason: 'DROP TABLE',
    },
  ]
  const first = await new IngestAccessEvents().handle({ terminalId: terminal.id, records })
  t.deepEqual(
    first.map((result) => result.status),
    ['recorded', 'recorded', 'recorded', 'rejected']
  )
  const second = await new IngestAccessEvents().handle({ terminalId: terminal.id, records })
  t.deepEqual(
    second.map((result) => result.status),
    ['duplicate', 'duplicate', 'duplicate', 'rejected']
  )
  const foreign = await new IngestAccessEvents().handle({ terminalId: other.id, records })
  t.deepEqual(
    foreign.map((result) => result.error),
    ['point_not_linked', 'point_not_linked', 'point_not_linked', 'invalid_record']
  )
  const rows = await db
    .from('access_events')
    .where('mode', 'offline')
    .orderBy('terminal_seq')
    .select('terminal_seq', 'person_id', 'card_no', 'uid', 'terminal_id')
  t.is(rows.length, 3)
  t.is(Number(rows[1].person_id), people.get('A001')!.id)
  t.is(rows[1].card_no, cards.get('A001')!.cardNo)
  t.is(rows[1].uid, '04A22B3C')

  // A terminal asks only for its own points.
  const { DecideAccess } = await import('#access/actions/decide_access')
  const asked = await new DecideAccess().handle({
    point: pointId,
    uid: '04A22B3C',
    terminalId: other.id,
  })
  t.true(asked.ok && asked.value.decision.reason === 'unknown_point')
})

async function signedIn(who: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, who)
  return client
}

test.serial('console: zones, points, groups, holidays, exceptions, audited', async (t) => {
  const client = await signedIn(admin)
  const zones = await client.get('/console/access/zones')
  t.is(zones.status, 200)
  t.regex(zones.text, /data-testid="zone-row" data-code="DORM-1"/)
  t.regex(zones.text, /data-testid="point-row" data-code="DORM-1-IN"/)

  await client.get('/console/access/zones/new')
  const zone = await client.post('/console/access/zones', {
    code: 'lib',
    name: '图书馆',
    parent: outerZone,
  })
  t.is(zone.status, 302)
  await client.get('/console/access/zones/new')
  const clash = await client.post('/console/access/zones', { code: 'LIB', name: '重复' })
  t.is(clash.status, 422)
  t.regex(clash.text, /该编码已被使用/)

  const { default: AccessZone } = await import('#access/models/access_zone')
  const library = await AccessZone.findByOrFail('code', 'LIB')
  await client.get('/console/access/points/new')
  const point = await client.post('/console/access/points', {
    code: 'LIB-GATE',
    name: '图书馆闸机',
    zone: library.publicId,
    kind: 'turnstile',
    direction: 'in',
    enabled: 'true',
  })
  t.is(point.status, 302)

  const newGroup = await client.get('/console/access/groups/new')
  t.is(newGroup.status, 200)
  const audienceId = /<option value="([0-9A-Z]{26})"[^>]*>本科生住宿生<\/option>/.exec(
    newGroup.text
  )?.[1]
  t.truthy(audienceId)
  const body = new URLSearchParams({
    _csrf: client.csrfToken ?? '',
    name: '图书馆开放',
    audience: audienceId!,
    enabled: 'true',
  })
  body.append('zones[]', library.publicId)
  for (const day of ['1', '2', '3', '4', '5']) body.append('windows[0][days][]', day)
  body.set('windows[0][from]', '08:00')
  body.set('windows[0][to]', '22:00')
  body.append('windows[1][days][]', '6')
  body.set('windows[1][from]', '22:00')
  body.set('windows[1][to]', '02:00')
  const saved = await client.request('POST', '/console/access/groups', {
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.is(saved.status, 302)
  const groups = await client.get('/console/access/groups')
  t.regex(groups.text, /data-name="图书馆开放"/)
  t.regex(groups.text, /一 二 三 四 五 08:00–22:00/)
  t.regex(groups.text, /六 22:00–02:00/)

  const badWindow = new URLSearchParams(body)
  badWindow.set('_csrf', client.csrfToken ?? '')
  badWindow.set('windows[0][to]', '08:00')
  const refused = await client.request('POST', '/console/access/groups', {
    body: badWindow.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.is(refused.status, 422)
  t.regex(refused.text, /时段第 1 行有误/)

  await client.get('/console/access/calendar')
  const holiday = await client.post('/console/access/holidays', {
    'name': '寒假',
    'startsOn': '2027-01-20',
    'endsOn': '2027-02-20',
    'effect': 'windows',
    'windows[0][from]': '08:00',
    'windows[0][to]': '20:00',
  })
  t.is(holiday.status, 302)
  const exception = await client.post('/console/access/exceptions', {
    personNo: 'b001',
    zone: library.publicId,
    effect: 'deny',
    until: DateTime.now().setZone(ZONE).plus({ days: 10 }).toISODate()!,
    note: '违规借阅',
  })
  t.is(exception.status, 302)
  const unknown = await client.post('/console/access/exceptions', {
    personNo: 'NOBODY',
    zone: library.publicId,
    effect: 'deny',
    until: '2099-01-01',
  })
  t.is(unknown.status, 422)
  const calendar = await client.get('/console/access/calendar')
  t.regex(calendar.text, /data-testid="holiday-row" data-name="寒假"/)
  t.regex(calendar.text, /data-testid="exception-row" data-person-no="B001" data-effect="deny"/)

  const snapshot = await client.get(`/console/access/points/${pointId}/snapshot`)
  t.is(snapshot.status, 200)
  t.is(snapshot.json().point.id, pointId)
  t.truthy(snapshot.headers.get('etag'))

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const actions = await db
    .from('audit_entries')
    .where('action', 'like', 'access.%')
    .where('actor_type', 'user')
    .select('action')
  const names = new Set(actions.map((row) => row.action))
  for (const name of [
    'access.zone_created',
    'access.point_created',
    'access.group_created',
    'access.holiday_created',
    'access.exception_created',
  ]) {
    t.true(names.has(name), name)
  }
})

test.serial('console: the event log filters and exports; others may not see it', async (t) => {
  const client = await signedIn(admin)
  const all = await client.get('/console/access/events')
  t.is(all.status, 200)
  t.regex(all.text, /data-testid="access-event"/)
  const denied = await client.get('/console/access/events?outcome=denied&reason=not_in_group')
  const reasons = [...denied.text.matchAll(/data-reason="([^"]+)"/g)].map((match) => match[1])
  t.true(reasons.length > 0)
  t.true(reasons.every((reason) => reason === 'not_in_group'))
  const replays = await client.get('/console/access/events?reason=code_invalid')
  t.regex(replays.text, /data-reason="code_invalid:code_replayed"/)
  const person = await client.get('/console/access/events?q=A001&mode=offline')
  const modes = [...person.text.matchAll(/data-mode="([^"]+)" data-person-no="([^"]*)"/g)]
  t.true(modes.length >= 2)
  t.true(modes.every((match) => match[1] === 'offline' && match[2] === 'A001'))
  const tomorrow = DateTime.now().setZone(ZONE).plus({ days: 1 }).toISODate()!
  const dated = await client.get(`/console/access/events?from=${tomorrow}&to=${tomorrow}`)
  t.regex(dated.text, /data-testid="access-event"/)
  t.notRegex(dated.text, /data-mode="offline"/)

  const csv = await client.post('/console/access/events/export', {
    format: 'csv',
    reason: 'in_window',
  })
  t.is(csv.status, 200)
  t.regex(csv.headers.get('content-type') ?? '', /text\/csv/)
  t.regex(csv.text, /时间,姓名,学工号,卡号/)
  t.regex(csv.text, /张一,A001/)
  t.notRegex(csv.text, /不在权限组内/)
  const xlsx = await fetch(`${quad.baseUrl}/console/access/events/export`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'cookie': (client as any).cookieHeader(),
      'referer': client.lastPage ?? '',
    },
    body: new URLSearchParams({ _csrf: client.csrfToken ?? '', format: 'xlsx' }).toString(),
  })
  t.is(xlsx.status, 200)
  const bytes = Buffer.from(await xlsx.arrayBuffer())
  t.is(bytes.subarray(0, 2).toString(), 'PK')

  const outsider = await signedIn(auditor)
  t.is((await outsider.get('/console/access/events')).status, 403)
  t.is((await outsider.get('/console/access/zones')).status, 403)
})

test.serial(
  'gateway: a door asks online, syncs its rules, uploads what it decided offline',
  async (t) => {
    const { givenTerminal, startGateway } = await import('../terminals/helpers.js')
    const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
    const { SavePoint } = await import('#access/actions/save_point')
    const { decideAccess } = await import('#access/services/access_decision')
    const gateway = await startGateway()
    const door = new SimulatedTerminal({ baseUrl: gateway.baseUrl, caPem: gateway.caPem })
    try {
      const { publicId, code } = await givenTerminal('door', '1 号楼东门')
      await door.enroll(code)
      const linked = await new SavePoint().handle(
        {
          code: 'DORM-1-EAST',
          name: '1 号楼东门',
          zone: innerZone,
          kind: 'door',
          direction: 'in',
          terminal: publicId,
          enabled: true,
        },
        SYSTEM
      )
      t.true(linked.ok)
      const point = linked.ok ? linked.value.publicId : ''

      const now = Math.floor(Date.now() / 1000)
      const local = DateTime.fromSeconds(now, { zone: ZONE })
      const inWindow =
        local.hour * 60 + local.minute >= 360 && local.hour * 60 + local.minute < 1410
      const online = await door.client.call('POST', '/t/v1/access', {
        code: await codeFor('A001', now),
      })
      t.is(online.allowed, inWindow)
      t.is(online.reason, inWindow ? 'in_window' : 'outside_window')
      t.is(online.card_no, cards.get('A001')!.cardNo)
      const stranger = await door.client.send('POST', '/t/v1/access', { point, uid: '04FFFFFF' })
      t.is(stranger.status, 200)
      t.is((stranger.body as any).reason, 'card_unknown')
      const foreign = await door.client.send('POST', '/t/v1/access', {
        point: pointId,
        uid: '04A22B3C',
      })
      t.is(foreign.status, 404)
      t.is((foreign.body as any).error.code, 'point_not_linked')

      const rules = await door.client.call('GET', '/t/v1/access/rules')
      t.true(rules.changed)
      t.is(rules.snapshot.point.id, point)
      t.true(
        rules.snapshot.holders.some((holder: any) => holder.card === cards.get('A001')!.cardNo)
      )
      const same = await door.client.call('GET', `/t/v1/access/rules?etag=${rules.etag}`)
      t.deepEqual(same, { point, version: rules.version, etag: rules.etag, changed: false })
      const sync = await door.client.call('GET', `/t/v1/sync?access_rules_since=${rules.version}`)
      t.deepEqual(sync.access_rules.points, [{ point, version: rules.version, etag: rules.etag }])

      // Offline, the door decides from the snapshot and uploads the records later.
      const decision = decideAccess(rules.snapshot, { kind: 'card', uid: '04A22B3C' }, now)
      const records = [
        {
          seq: 1,
          point,
          at: now,
          credential: 'card',
          uid: '04A22B3C',
          card_no: decision.cardNo,
          allowed: decision.allowed,
          reason: decision.reason,
          rules_version: rules.version,
        },
      ]
      const first = await door.client.call('POST', '/t/v1/access/events', { records })
      t.deepEqual(first.results, [{ seq: 1, status: 'recorded' }])
      const again = await door.client.call('POST', '/t/v1/access/events', { records })
      t.deepEqual(again.results, [{ seq: 1, status: 'duplicate' }])
    } finally {
      door.close()
      await gateway.close()
    }
  }
)
