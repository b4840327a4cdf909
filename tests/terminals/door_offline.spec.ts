/**
 * A door terminal (the reference terminal) with the gateway gone: it decides
 * from the access rules its last sync brought, with decideAccess at its own
 * clock, stores every decision with its sequence number, and uploads them
 * to the access event log once the gateway is back.
 */
import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { HolderDevice } from '#tests/cards/code_fixtures'
import type { SimulatedTerminal } from '#terminals/simulator/terminal'
import { givenTerminal, startGateway, type TestGateway } from './helpers.js'

const ZONE = 'Asia/Shanghai'
const SYSTEM = { type: 'system' as const, name: 'door-test' }

let quad: TestApp
let gateway: TestGateway | null = null
let db: typeof import('@adonisjs/lucid/services/db').default
const devices = new Map<string, HolderDevice>()
const cardNos = new Map<string, string>()
let zoneId: string
const opened: SimulatedTerminal[] = []

/** Unix seconds of tomorrow at hh:mm, school time: inside the holders' credentials. */
function tomorrowAt(time: string): number {
  const [hour, minute] = time.split(':').map(Number)
  return Math.floor(
    DateTime.now()
      .setZone(ZONE)
      .plus({ days: 1 })
      .set({ hour, minute, second: 0, millisecond: 0 })
      .toSeconds()
  )
}

test.before(async () => {
  quad = await bootTestApp({ http: false })
  db = (await import('@adonisjs/lucid/services/db')).default
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople } = await import('#tests/cards/fixtures')
  const { givenCard, givenHolderDevice } = await import('#tests/cards/code_fixtures')
  await givenSchool({ timeZone: ZONE })
  // D001 lives in the dorm; V001 is a visitor in no group.
  const people = await givenPeople([
    { no: 'D001', name: '周住宿' },
    { no: 'V001', name: '吴访客' },
  ])
  for (const no of ['D001', 'V001']) {
    const card = await givenCard(people.get(no)!.id, 'student')
    cardNos.set(no, card.cardNo)
    devices.set(no, await givenHolderDevice(card.cardNo))
  }
  const { CreateAudience } = await import('#identity/actions/audience_create')
  const audience = await new CreateAudience().handle(SYSTEM, {
    name: '2 号楼住宿生',
    rules: { include: ['D001'] },
  })
  if (!audience.ok) throw new Error(audience.error)
  const { SaveZone } = await import('#access/actions/save_zone')
  const { SaveGroup } = await import('#access/actions/save_group')
  const zone = await new SaveZone().handle({ code: 'DORM-2', name: '2 号宿舍楼' }, SYSTEM)
  if (!zone.ok) throw new Error(zone.error)
  zoneId = zone.value.publicId
  const group = await new SaveGroup().handle(
    {
      name: '2 号楼住宿生',
      audience: audience.value.publicId,
      zones: [zoneId],
      windows: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '06:00', to: '23:30' }],
      enabled: true,
    },
    SYSTEM
  )
  if (!group.ok) throw new Error(group.error)
  gateway = await startGateway()
})

test.after.always(async () => {
  for (const terminal of opened) terminal.close()
  await gateway?.close()
  await quad?.close()
})

async function codeFor(no: string, at: number) {
  const { codeOf } = await import('#tests/cards/code_fixtures')
  return codeOf(devices.get(no)!, at)
}

test.serial(
  'a door with the gateway stopped opens for a holder in the window, refuses outside it, and uploads both later',
  async (t) => {
    const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
    const { SavePoint } = await import('#access/actions/save_point')
    const { publicId, code } = await givenTerminal('door', '2 号楼正门')
    const door = new SimulatedTerminal({ baseUrl: gateway!.baseUrl, caPem: gateway!.caPem })
    opened.push(door)
    await door.enroll(code)
    const saved = await new SavePoint().handle(
      {
        code: 'DORM-2-IN',
        name: '2 号楼正门（进）',
        zone: zoneId,
        kind: 'door',
        direction: 'in',
        terminal: publicId,
        enabled: true,
      },
      SYSTEM
    )
    if (!saved.ok) return t.fail(saved.error)
    const point = saved.value.publicId

    await door.fetchConfig()
    await door.sync()
    const rules = door.state.synced.accessRules[point]
    t.truthy(rules, 'the sync brought the rules of the door’s point')
    t.true(rules.snapshot.holders.some((holder) => holder.card === cardNos.get('D001')))
    // A second sync with the version held confirms it without sending it again.
    const confirmed = await door.sync()
    t.deepEqual(confirmed.access_rules.points, [
      { point, version: rules.version, etag: rules.etag },
    ])
    t.is(door.state.synced.accessRules[point].snapshot.version, rules.version)

    // The gateway goes away; the door runs on what it synced.
    const port = Number(new URL(gateway!.baseUrl).port)
    await gateway!.close()
    gateway = null

    const presentAt = async (no: string, time: string) => {
      const at = tomorrowAt(time)
      door.options.clockOffsetMs = at * 1000 - Date.now()
      const answer = await door.access({ code: await codeFor(no, at) })
      if (answer.mode !== 'offline') throw new Error('the door reached a gateway')
      return answer.outcome
    }
    const inWindow = await presentAt('D001', '12:00')
    t.like(inWindow.decision, {
      allowed: true,
      reason: 'in_window',
      cardNo: cardNos.get('D001'),
    })
    const early = await presentAt('D001', '03:00')
    t.like(early.decision, { allowed: false, reason: 'outside_window' })
    const visitor = await presentAt('V001', '12:00')
    t.like(visitor.decision, { allowed: false, reason: 'not_in_group' })
    // The same code twice: the door's replay cache refuses it, as the server would.
    const twiceAt = tomorrowAt('12:05')
    door.options.clockOffsetMs = twiceAt * 1000 - Date.now()
    const text = await codeFor('D001', twiceAt)
    t.true((await door.accessOffline({ code: text })).decision.allowed)
    t.is((await door.accessOffline({ code: text })).decision.reason, 'code_invalid:code_replayed')

    const pending = door.records.pending(100, 'access')
    t.deepEqual(
      pending.map((record) => [record.point, record.allowed, record.reason, record.rules_version]),
      [
        [point, true, 'in_window', rules.version],
        [point, false, 'outside_window', rules.version],
        [point, false, 'not_in_group', rules.version],
        [point, true, 'in_window', rules.version],
        [point, false, 'code_invalid:code_replayed', rules.version],
      ]
    )
    t.deepEqual(
      pending.map((record) => record.sequence),
      [1, 2, 3, 4, 5]
    )

    // Back on the same address: the door uploads what it decided, once.
    door.options.clockOffsetMs = 0
    gateway = await startGateway({ port })
    const uploaded = await door.uploadAccessEvents()
    t.is(uploaded.sent, 5)
    t.deepEqual(
      uploaded.results.map((result: any) => result.status),
      ['recorded', 'recorded', 'recorded', 'recorded', 'recorded']
    )
    t.deepEqual(door.records.pending(100, 'access'), [])
    t.is((await door.uploadAccessEvents()).sent, 0)

    const terminal = await db.from('terminals').where('public_id', publicId).first()
    const events = await db
      .from('access_events')
      .leftJoin('people', 'people.id', 'access_events.person_id')
      .where('access_events.terminal_id', terminal.id)
      .orderBy('access_events.terminal_seq')
      .select(
        'access_events.terminal_seq',
        'access_events.mode',
        'access_events.allowed',
        'access_events.reason',
        'access_events.rules_version',
        'people.person_no'
      )
    t.deepEqual(
      events.map((event) => [
        Number(event.terminal_seq),
        event.mode,
        Boolean(event.allowed),
        event.reason,
        event.person_no,
        Number(event.rules_version),
      ]),
      [
        [1, 'offline', true, 'in_window', 'D001', rules.version],
        [2, 'offline', false, 'outside_window', 'D001', rules.version],
        [3, 'offline', false, 'not_in_group', 'V001', rules.version],
        [4, 'offline', true, 'in_window', 'D001', rules.version],
        [5, 'offline', false, 'code_invalid:code_replayed', 'D001', rules.version],
      ]
    )
  }
)

test.serial('a door holding no rules for a point opens nothing and records nothing', async (t) => {
  const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
  const { code } = await givenTerminal('door', '2 号楼侧门')
  const door = new SimulatedTerminal({ baseUrl: gateway!.baseUrl, caPem: gateway!.caPem })
  opened.push(door)
  await door.enroll(code)
  await door.fetchConfig()
  await door.sync()
  t.deepEqual(door.state.synced.accessRules, {}, 'no point is linked to this door')
  const now = Math.floor(door.now() / 1000)
  const outcome = await door.accessOffline({ code: await codeFor('D001', now) })
  t.like(outcome.decision, { allowed: false, reason: 'unknown_point' })
  t.is(outcome.record, null)
  t.deepEqual(door.records.pending(), [])
})
