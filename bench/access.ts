/**
 * Access control at the size of a large dorm zone: one access point whose
 * group's audience holds `--people` people (default 20,000), each with a
 * card and a bound physical card. Prints the time to build the point's
 * rules snapshot and its size, offline decisions per second on the
 * snapshot (what a door does), and online decisions per second through
 * DecideAccess (UID path: lookup, narrowed snapshot, decision, event row).
 *
 *   npm run bench access [-- --people 20000 --online 500 --db sqlite|pg]
 */
import { option, ranOnEachDatabase } from './support/cli.js'

export default async function accessBench(args: string[]) {
  if (await ranOnEachDatabase('access', args)) return
  const people = Number(option(args, 'people', '20000'))
  const onlineRuns = Number(option(args, 'online', '500'))

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp({ http: false })
  try {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { DateTime } = await import('luxon')
    const { newPublicId } = await import('#core/services/ids')
    const { newCardNo } = await import('#cards/services/card_numbers')
    const { dbDateTime } = await import('#cards/services/db_time')
    const { givenSchool } = await import('../tests/helpers/fixtures.js')
    const { CreateAudience } = await import('#identity/actions/audience_create')
    const { SaveZone } = await import('#access/actions/save_zone')
    const { SavePoint } = await import('#access/actions/save_point')
    const { SaveGroup } = await import('#access/actions/save_group')
    const { findPoint, snapshotForPoint } = await import('#access/services/access_snapshot')
    const { decideAccess } = await import('#access/services/access_decision')
    const { DecideAccess } = await import('#access/actions/decide_access')
    const system = { type: 'system' as const, name: 'bench' }
    await givenSchool()
    const { insertOrgUnit } = await import('#identity/services/org_tree')
    const unit = await db.transaction((trx) =>
      insertOrgUnit(trx, null, { kind: 'school', code: 'BENCH', name: '示范大学' })
    )

    const now = dbDateTime(DateTime.utc(), db.connection())
    const type = await db.from('card_types').where('code', 'student').select('id').firstOrFail()
    const uids: string[] = []
    const cardNos = new Set<string>()
    for (let made = 0; made < people; made += 500) {
      const size = Math.min(500, people - made)
      const personRows = Array.from({ length: size }, (_, index) => ({
        public_id: newPublicId(),
        person_no: `D${String(made + index).padStart(7, '0')}`,
        name: `住宿生${made + index}`,
        name_pinyin_initials: 'zss',
        org_unit_id: unit.id,
        gender: 'unknown',
        identity_type: 'undergraduate',
        status: 'active',
        created_at: now,
        updated_at: now,
      }))
      await db.table('people').multiInsert(personRows)
      const ids = await db
        .from('people')
        .whereIn(
          'person_no',
          personRows.map((row) => row.person_no)
        )
        .select('id')
      const cardRows = ids.map((row) => {
        let cardNo = newCardNo()
        while (cardNos.has(cardNo)) cardNo = newCardNo()
        cardNos.add(cardNo)
        return {
          public_id: newPublicId(),
          card_no: cardNo,
          person_id: row.id,
          card_type_id: type.id,
          state: 'active',
          valid_from: now,
          issued_at: now,
          created_at: now,
          updated_at: now,
        }
      })
      await db.table('cards').multiInsert(cardRows)
      const cards = await db
        .from('cards')
        .whereIn(
          'card_no',
          cardRows.map((row) => row.card_no)
        )
        .select('id', 'person_id')
      const physical = cards.map((card, index) => {
        const uid = (0x04000000 + made + index).toString(16).toUpperCase().padStart(8, '0')
        uids.push(uid)
        return {
          public_id: newPublicId(),
          uid,
          person_id: card.person_id,
          card_id: card.id,
          state: 'bound',
          bound_at: now,
          created_at: now,
          updated_at: now,
        }
      })
      await db.table('physical_cards').multiInsert(physical)
    }
    if (quad.dialect === 'pg') await db.rawQuery('ANALYZE')

    const audience = await new CreateAudience().handle(system, {
      name: '全体住宿生',
      rules: { identityTypes: ['undergraduate'] },
    })
    if (!audience.ok) throw new Error(audience.error)
    const zone = await new SaveZone().handle({ code: 'DORM', name: '宿舍区' }, system)
    if (!zone.ok) throw new Error(zone.error)
    const saved = await new SavePoint().handle(
      {
        code: 'DORM-GATE',
        name: '宿舍区闸机',
        zone: zone.value.publicId,
        kind: 'gate',
        direction: 'in',
        enabled: true,
      },
      system
    )
    if (!saved.ok) throw new Error(saved.error)
    const group = await new SaveGroup().handle(
      {
        name: '本科生宿舍',
        audience: audience.value.publicId,
        zones: [zone.value.publicId],
        windows: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '06:00', to: '23:30' }],
        enabled: true,
      },
      system
    )
    if (!group.ok) throw new Error(group.error)

    const point = (await findPoint(saved.value.publicId))!
    let started = performance.now()
    const { snapshot, etag } = await snapshotForPoint(point)
    const buildMs = performance.now() - started
    const bytes = Buffer.byteLength(JSON.stringify(snapshot))
    started = performance.now()
    await snapshotForPoint(point)
    const rebuildMs = performance.now() - started

    const at = Math.floor(Date.now() / 1000)
    const decisions = 200_000
    started = performance.now()
    let allowed = 0
    for (let index = 0; index < decisions; index++) {
      const uid = uids[index % uids.length]
      if (decideAccess(snapshot, { kind: 'card', uid }, at + (index % 86400)).allowed) allowed++
    }
    const offlinePerSecond = decisions / ((performance.now() - started) / 1000)

    const action = new DecideAccess()
    const latencies: number[] = []
    started = performance.now()
    for (let index = 0; index < onlineRuns; index++) {
      const one = performance.now()
      const result = await action.handle({
        point: point.publicId,
        uid: uids[(index * 37) % uids.length],
      })
      if (!result.ok) throw new Error(result.error)
      latencies.push(performance.now() - one)
    }
    const onlinePerSecond = onlineRuns / ((performance.now() - started) / 1000)
    latencies.sort((a, b) => a - b)

    console.log(`\naccess control, ${people.toLocaleString('en')} holders on ${quad.dialect}`)
    console.log(
      `  snapshot: built in ${buildMs.toFixed(0)} ms (again: ${rebuildMs.toFixed(0)} ms), ` +
        `${snapshot.holders.length.toLocaleString('en')} holders, ` +
        `${(bytes / 1024).toFixed(0)} KB JSON, version ${snapshot.version}, etag ${etag.slice(0, 12)}…`
    )
    console.log(
      `  offline decisions on the snapshot: ${Math.round(offlinePerSecond).toLocaleString('en')}/s ` +
        `(${allowed.toLocaleString('en')} of ${decisions.toLocaleString('en')} allowed)`
    )
    console.log(
      `  online decisions (UID, logged): ${onlinePerSecond.toFixed(0)}/s, ` +
        `p50 ${latencies[Math.floor(onlineRuns / 2)].toFixed(1)} ms, ` +
        `p99 ${latencies[Math.floor(onlineRuns * 0.99)].toFixed(1)} ms`
    )
    console.log(`  memory: ${Math.round(process.memoryUsage().rss / 1e6)} MB RSS`)
  } finally {
    await quad.close()
  }
}
