/**
 * Physical cards and the blacklist terminals sync: UID rules, loss of the
 * phone or of the card, and the versioned deltas.
 */
import test from 'ava'
import fc from 'fast-check'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type Person from '#identity/models/person'

let quad: TestApp
let people: Map<string, Person>

const ADMIN = { type: 'user' as const, id: 'ADMIN', name: 'card-officer' }

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople } = await import('./fixtures.js')
  await givenSchool()
  people = await givenPeople([
    { no: 'B001', type: 'teacher' },
    { no: 'B002', type: 'teacher' },
    { no: 'B003', type: 'staff' },
  ])
})

test.after.always(async () => {
  await quad?.close()
})

async function cardOf(no: string, code: string) {
  const { IssueCard } = await import('#cards/actions/issue_card')
  const result = await new IssueCard().handle(
    { person: { id: people.get(no)!.id }, cardType: { code } },
    ADMIN
  )
  if (!result.ok) throw new Error(result.error)
  return result.value
}

test('accepts 4, 7 and 10-byte UIDs in any case and with separators, and nothing else', async (t) => {
  const { normalizeUid } = await import('#cards/services/uids')
  t.deepEqual(normalizeUid('04:a2:2b:3c'), { ok: true, value: '04A22B3C' })
  t.deepEqual(normalizeUid('04 A2 2B 3C 4D 5E 6F'), { ok: true, value: '04A22B3C4D5E6F' })
  t.deepEqual(normalizeUid('04-a2-2b-3c-4d-5e-6f-70-81-92'), {
    ok: true,
    value: '04A22B3C4D5E6F708192',
  })
  for (const bad of ['', '04A22B', '04A22B3C4D', 'G4A22B3C', '04A22B3C4D5E6F70', '0x04A22B3C']) {
    t.like(normalizeUid(bad), { ok: false, error: 'uid_invalid' }, bad)
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 12 }), (bytes) => {
      const hex = Buffer.from(bytes).toString('hex')
      const result = normalizeUid(hex)
      return (
        result.ok === [4, 7, 10].includes(bytes.length) &&
        (!result.ok || result.value === hex.toUpperCase())
      )
    })
  )
})

test.serial('a UID is bound to one card at a time and a card has one physical card', async (t) => {
  const { BindPhysicalCard } = await import('#cards/actions/bind_physical_card')
  const { UnbindPhysicalCard } = await import('#cards/actions/unbind_physical_card')
  const first = await cardOf('B001', 'teacher')
  const second = await cardOf('B002', 'teacher')
  const bind = new BindPhysicalCard()
  t.like(await bind.handle({ card: { id: first.id }, uid: '12345678' }, ADMIN), { ok: true })
  t.like(await bind.handle({ card: { id: second.id }, uid: '12:34:56:78' }, ADMIN), {
    ok: false,
    error: 'uid_in_use',
  })
  t.like(await bind.handle({ card: { id: first.id }, uid: 'AABBCCDD' }, ADMIN), {
    ok: false,
    error: 'card_has_physical',
  })
  t.like(await bind.handle({ card: { id: first.id }, uid: 'XYZ' }, ADMIN), {
    ok: false,
    error: 'uid_invalid',
  })
  const racing = await Promise.all([
    bind.handle({ card: { id: second.id }, uid: 'CAFEBABE' }, ADMIN),
    new BindPhysicalCard().handle(
      { card: { id: (await cardOf('B003', 'staff')).id }, uid: 'cafebabe' },
      ADMIN
    ),
  ])
  t.deepEqual(
    racing.map((result) => (result.ok ? 'ok' : result.error)).toSorted(),
    ['ok', 'uid_in_use'],
    'two bindings racing for one UID: one wins'
  )
  const { default: PhysicalCard } = await import('#cards/models/physical_card')
  const bound = await PhysicalCard.findByOrFail('uid', '12345678')
  t.like(await new UnbindPhysicalCard().handle({ physical: { publicId: bound.publicId } }, ADMIN), {
    ok: true,
    value: { state: 'unbound', unboundReason: 'returned' },
  })
  const rebound = await bind.handle({ card: { id: first.id }, uid: 'DEADBEEF' }, ADMIN)
  t.true(rebound.ok, 'after an unbinding the card takes another physical card')
})

test.serial(
  'versions every change, and a delta tells a terminal exactly what changed',
  async (t) => {
    const { blacklistSince, currentBlacklistVersion } = await import('#cards/services/blacklist')
    const { FreezeCard } = await import('#cards/actions/freeze_card')
    const { UnfreezeCard } = await import('#cards/actions/unfreeze_card')
    const { ReportPhysicalCardLost } = await import('#cards/actions/report_physical_card_lost')
    const { MarkPhysicalCardFound } = await import('#cards/actions/mark_physical_card_found')
    const { BindPhysicalCard } = await import('#cards/actions/bind_physical_card')
    const { default: Card } = await import('#cards/models/card')
    const { default: PhysicalCard } = await import('#cards/models/physical_card')
    const { auditActions } = await import('./fixtures.js')

    const teacher = await Card.query().where('person_id', people.get('B001')!.id).firstOrFail()
    const start = await currentBlacklistVersion()

    // The phone is lost: the card and its physical card (DEADBEEF) are listed.
    await new FreezeCard().handle({ card: { id: teacher.id }, by: 'holder', reason: 'lost' }, ADMIN)
    const afterLoss = await currentBlacklistVersion()
    t.is(afterLoss, start + 2)
    const loss = await blacklistSince(start)
    t.deepEqual(
      loss.added.map((item) => [
        item.kind,
        item.kind === 'card' ? item.cardNo : item.uid,
        item.reason,
      ]),
      [
        ['card', teacher.cardNo, 'lost'],
        ['physical', 'DEADBEEF', 'lost'],
      ]
    )
    t.deepEqual(loss.removed, [])
    t.is(loss.currentVersion, afterLoss)
    t.deepEqual(await blacklistSince(afterLoss), {
      added: [],
      removed: [],
      currentVersion: afterLoss,
    })

    // Found again: both leave, at new versions.
    await new UnfreezeCard().handle({ card: { id: teacher.id } }, ADMIN)
    const afterFound = await currentBlacklistVersion()
    t.is(afterFound, afterLoss + 2)
    const back = await blacklistSince(afterLoss)
    t.deepEqual(back.added, [])
    t.deepEqual(
      back.removed.map((item) => [item.kind, item.version]).toSorted(),
      [
        ['card', afterLoss + 1],
        ['physical', afterLoss + 2],
      ].toSorted()
    )
    // A terminal that slept through both changes has nothing to do.
    t.deepEqual(await blacklistSince(start), { added: [], removed: [], currentVersion: afterFound })

    // The physical card alone is lost: it is unbound and only its UID is listed.
    const physical = await PhysicalCard.query()
      .where('uid', 'DEADBEEF')
      .where('state', 'bound')
      .firstOrFail()
    t.like(
      await new ReportPhysicalCardLost().handle(
        { physical: { publicId: physical.publicId } },
        ADMIN
      ),
      {
        ok: true,
        value: { state: 'lost' },
      }
    )
    const lost = await blacklistSince(afterFound)
    t.deepEqual(
      lost.added.map((item) => [item.kind, item.uid, item.reason]),
      [['physical', 'DEADBEEF', 'lost']]
    )
    t.is(
      (await Card.findOrFail(teacher.id)).state,
      'pending_activation',
      'the electronic card is not frozen'
    )
    t.like(
      await new BindPhysicalCard().handle({ card: { id: teacher.id }, uid: 'deadbeef' }, ADMIN),
      {
        ok: false,
        error: 'uid_lost',
      }
    )
    const afterLost = await currentBlacklistVersion()
    t.like(await new MarkPhysicalCardFound().handle({ physical: { uid: 'DEADBEEF' } }, ADMIN), {
      ok: true,
    })
    const found = await blacklistSince(afterLost)
    t.deepEqual(
      found.removed.map((item) => [item.uid, item.version]),
      [['DEADBEEF', afterLost + 1]]
    )
    t.like(await new MarkPhysicalCardFound().handle({ physical: { uid: 'DEADBEEF' } }, ADMIN), {
      ok: false,
      error: 'not_lost',
    })
    t.true(
      (await new BindPhysicalCard().handle({ card: { id: teacher.id }, uid: 'DEADBEEF' }, ADMIN))
        .ok,
      'a card found again can be bound again'
    )

    // Version 0 is the whole current list.
    const everything = await blacklistSince(0)
    t.deepEqual(everything.removed, [])
    t.is(everything.currentVersion, await currentBlacklistVersion())
    t.true(everything.added.every((item) => item.version <= everything.currentVersion))
    const actions = await auditActions()
    t.true(
      ['cards.frozen', 'cards.unfrozen', 'cards.physical_lost', 'cards.physical_found'].every(
        (action) => actions.includes(action)
      )
    )
  }
)

test.serial(
  'revoking a card unbinds and lists its physical card until it is bound again',
  async (t) => {
    const { RevokeCard } = await import('#cards/actions/revoke_card')
    const { BindPhysicalCard } = await import('#cards/actions/bind_physical_card')
    const { blacklistSince, currentBlacklistVersion } = await import('#cards/services/blacklist')
    const { givenPeople } = await import('./fixtures.js')
    const { default: PhysicalCard } = await import('#cards/models/physical_card')
    people = new Map([...people, ...(await givenPeople([{ no: 'B004', type: 'staff' }]))])
    const card = await cardOf('B004', 'staff')
    t.true(
      (await new BindPhysicalCard().handle({ card: { id: card.id }, uid: '0a0b0c0d' }, ADMIN)).ok
    )

    const before = await currentBlacklistVersion()
    t.true((await new RevokeCard().handle({ card: { id: card.id }, note: '离校' }, ADMIN)).ok)
    const delta = await blacklistSince(before)
    t.deepEqual(
      delta.added.map((item) => [item.kind, item.cardNo, item.uid, item.reason]),
      [
        ['card', card.cardNo, null, 'revoked'],
        ['physical', card.cardNo, '0A0B0C0D', 'revoked'],
      ]
    )
    const physical = await PhysicalCard.findByOrFail('uid', '0A0B0C0D')
    t.is(physical.state, 'unbound')
    t.is(physical.unboundReason, 'card_ended')

    const next = await cardOf('B004', 'staff')
    const beforeBinding = await currentBlacklistVersion()
    t.true(
      (await new BindPhysicalCard().handle({ card: { id: next.id }, uid: '0A0B0C0D' }, ADMIN)).ok
    )
    const rebound = await blacklistSince(beforeBinding)
    t.deepEqual(
      rebound.removed.map((item) => item.uid),
      ['0A0B0C0D']
    )
    t.deepEqual(rebound.added, [])
  }
)
