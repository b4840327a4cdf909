/**
 * The card state machine through its actions: issue, activate, freeze,
 * unfreeze, revoke, reissue, expire, and the refusals, each change with its
 * history, its audit entry and its effect on the blacklist.
 */
import test from 'ava'
import { DateTime } from 'luxon'
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
    { no: 'L001', type: 'undergraduate', graduation: '2099-07-01' },
    { no: 'L002', type: 'undergraduate' },
    { no: 'L003', type: 'teacher' },
    { no: 'L004', type: 'undergraduate' },
    { no: 'L005', type: 'visitor' },
    { no: 'L006', type: 'teacher', status: 'left' },
    { no: 'L007', type: 'staff' },
  ])
})

test.after.always(async () => {
  await quad?.close()
})

async function issue(no: string, code: string, window?: { from: DateTime; until: DateTime }) {
  const { IssueCard } = await import('#cards/actions/issue_card')
  return new IssueCard().handle(
    { person: { id: people.get(no)!.id }, cardType: { code }, window },
    ADMIN
  )
}

async function issued(no: string, code: string) {
  const result = await issue(no, code)
  if (!result.ok) throw new Error(`not issued: ${result.error}`)
  return result.value
}

async function blacklisted(cardId: number): Promise<boolean> {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const row = await db
    .from('card_blacklist')
    .where('kind', 'card')
    .where('card_id', cardId)
    .whereNull('removed_version')
    .first()
  return !!row
}

test.serial('issues a card pending activation, valid until graduation plus grace', async (t) => {
  const { history, auditActions } = await import('./fixtures.js')
  const { isCardNo } = await import('#cards/services/card_numbers')
  const card = await issued('L001', 'student')
  t.is(card.state, 'pending_activation')
  t.true(isCardNo(card.cardNo), card.cardNo)
  // 2099-07-01 + 90 days, end of that day in Asia/Shanghai.
  t.is(card.validUntil?.toISO(), '2099-09-29T15:59:59.000Z')
  t.deepEqual(
    (await history(card.id)).map((event) => [event.event, event.to_state]),
    [['issued', 'pending_activation']]
  )
  t.is((await auditActions()).at(-1), 'cards.issued')
})

test.serial('refuses a second live card of one type, and ineligible people', async (t) => {
  t.like(await issue('L001', 'student'), { ok: false, error: 'already_holds' })
  t.like(await issue('L003', 'student'), { ok: false, error: 'not_eligible' })
  t.like(await issue('L006', 'teacher'), { ok: false, error: 'not_eligible' }, 'left the school')
  t.like(await issue('L005', 'visitor'), { ok: false, error: 'window_required' })
})

test.serial('two issuances racing for one person give them one card', async (t) => {
  const { liveCards } = await import('./fixtures.js')
  const results = await Promise.all([issue('L002', 'student'), issue('L002', 'student')])
  t.is(results.filter((result) => result.ok).length, 1)
  t.deepEqual(
    results.filter((result) => !result.ok).map((result) => !result.ok && result.error),
    ['already_holds']
  )
  t.is((await liveCards(people.get('L002')!.id)).length, 1)
})

test.serial(
  'freezes with a reason, refuses what a frozen card cannot do, and unfreezes',
  async (t) => {
    const { ActivateCard } = await import('#cards/actions/activate_card')
    const { FreezeCard } = await import('#cards/actions/freeze_card')
    const { UnfreezeCard } = await import('#cards/actions/unfreeze_card')
    const { history, auditActions } = await import('./fixtures.js')
    const card = await issued('L003', 'teacher')
    const activated = await new ActivateCard().handle({ card: { publicId: card.publicId } }, ADMIN)
    t.like(activated, { ok: true, value: { state: 'active' } })
    t.like(await new ActivateCard().handle({ card: { id: card.id } }, ADMIN), {
      ok: false,
      error: 'invalid_transition',
    })

    t.like(
      await new FreezeCard().handle({ card: { id: card.id }, by: 'admin', reason: 'admin' }, ADMIN),
      { ok: false, error: 'note_required' },
      'an administrator says why'
    )
    const frozen = await new FreezeCard().handle(
      { card: { id: card.id }, by: 'holder', reason: 'lost' },
      ADMIN
    )
    t.like(frozen, {
      ok: true,
      value: { state: 'frozen', frozenBy: 'holder', frozenReason: 'lost' },
    })
    t.true(await blacklisted(card.id))
    t.like(
      await new FreezeCard().handle(
        { card: { id: card.id }, by: 'admin', reason: 'admin', note: '再次冻结' },
        ADMIN
      ),
      { ok: false, error: 'invalid_transition', details: { from: 'frozen' } }
    )

    const unfrozen = await new UnfreezeCard().handle(
      { card: { id: card.id }, note: '找到手机' },
      ADMIN
    )
    t.like(unfrozen, { ok: true, value: { state: 'active', frozenReason: null } })
    t.false(await blacklisted(card.id))
    t.like(await new UnfreezeCard().handle({ card: { id: card.id } }, ADMIN), {
      ok: false,
      error: 'invalid_transition',
    })
    t.deepEqual(
      (await history(card.id)).map((event) => [event.event, event.from_state, event.to_state]),
      [
        ['issued', null, 'pending_activation'],
        ['activated', 'pending_activation', 'active'],
        ['frozen', 'active', 'frozen'],
        ['unfrozen', 'frozen', 'active'],
      ]
    )
    t.deepEqual((await auditActions()).slice(-3), [
      'cards.activated',
      'cards.frozen',
      'cards.unfrozen',
    ])
  }
)

test.serial('a revoked card stays revoked and blacklisted, and frees its type', async (t) => {
  const { RevokeCard } = await import('#cards/actions/revoke_card')
  const { UnfreezeCard } = await import('#cards/actions/unfreeze_card')
  const { FreezeCard } = await import('#cards/actions/freeze_card')
  const { ReissueCard } = await import('#cards/actions/reissue_card')
  const card = await issued('L007', 'staff')
  t.like(await new RevokeCard().handle({ card: { id: card.id }, note: '' }, ADMIN), {
    ok: false,
    error: 'note_required',
  })
  const revoked = await new RevokeCard().handle({ card: { id: card.id }, note: '离职' }, ADMIN)
  t.like(revoked, { ok: true, value: { state: 'revoked', revokedReason: 'admin' } })
  t.true(await blacklisted(card.id))
  for (const refused of [
    await new UnfreezeCard().handle({ card: { id: card.id } }, ADMIN),
    await new FreezeCard().handle({ card: { id: card.id }, by: 'risk', reason: 'risk' }, ADMIN),
    await new RevokeCard().handle({ card: { id: card.id }, note: '再次注销' }, ADMIN),
    await new ReissueCard().handle({ card: { id: card.id }, note: '补卡' }, ADMIN),
  ]) {
    t.like(refused, { ok: false, error: 'invalid_transition', details: { from: 'revoked' } })
  }
  const again = await issue('L007', 'staff')
  t.true(again.ok, 'a new card of the type can be issued after a revocation')
})

test.serial(
  'reissues with a new number, links both cards and moves the physical card',
  async (t) => {
    const { ReissueCard } = await import('#cards/actions/reissue_card')
    const { FreezeCard } = await import('#cards/actions/freeze_card')
    const { BindPhysicalCard } = await import('#cards/actions/bind_physical_card')
    const { history, auditActions } = await import('./fixtures.js')
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const card = await issued('L004', 'student')
    t.true(
      (await new BindPhysicalCard().handle({ card: { id: card.id }, uid: '04a1b2c3' }, ADMIN)).ok
    )
    await new FreezeCard().handle({ card: { id: card.id }, by: 'holder', reason: 'lost' }, ADMIN)
    const uidListed = () =>
      db.from('card_blacklist').where('uid', '04A1B2C3').whereNull('removed_version').first()
    t.truthy(await uidListed(), 'freezing lists the bound physical card too')

    const result = await new ReissueCard().handle(
      { card: { id: card.id }, note: '手机丢失补卡' },
      ADMIN
    )
    if (!result.ok) return t.fail(result.error)
    const { old, card: replacement } = result.value
    t.is(old.state, 'revoked')
    t.is(old.revokedReason, 'reissued')
    t.is(old.replacedById, replacement.id)
    t.is(replacement.replacesId, old.id)
    t.not(replacement.cardNo, old.cardNo)
    t.is(replacement.state, 'pending_activation')
    t.is(replacement.validUntil?.toISO(), old.validUntil?.toISO())
    t.true(await blacklisted(old.id))
    t.false(await blacklisted(replacement.id))
    const physical = await db.from('physical_cards').where('uid', '04A1B2C3').first()
    t.is(physical.card_id, replacement.id)
    t.is(physical.state, 'bound')
    t.falsy(await uidListed(), 'the physical card works again on the new card')
    t.deepEqual(
      (await history(old.id)).map((event) => [event.event, event.related_card_id]).slice(-2),
      [
        ['reissued', replacement.id],
        ['physical_unbound', replacement.id],
      ]
    )
    t.like((await history(replacement.id))[0], { event: 'issued', related_card_id: old.id })
    t.is((await auditActions()).at(-1), 'cards.reissued')
  }
)

test.serial('a visitor card expires on its own when the expiry job runs', async (t) => {
  const { enqueue, runDueJobs } = await import('#appliance/services/jobs')
  const { expireCardsJob } = await import('#cards/services/card_jobs')
  const { default: Card } = await import('#cards/models/card')
  const { history, auditActions } = await import('./fixtures.js')
  const now = DateTime.utc()
  const result = await issue('L005', 'visitor', {
    from: now.minus({ hours: 2 }),
    until: now.plus({ seconds: 2 }),
  })
  if (!result.ok) return t.fail(result.error)
  const card = result.value
  t.like(await issue('L005', 'visitor', { from: now, until: now.plus({ days: 31 }) }), {
    ok: false,
    error: 'window_too_long',
  })
  await enqueue(expireCardsJob, null)
  await runDueJobs({ workerId: 'test' })
  t.is((await Card.findOrFail(card.id)).state, 'pending_activation', 'not before its end')

  await new Promise((resolve) => setTimeout(resolve, 2500))
  await enqueue(expireCardsJob, null)
  const outcomes = await runDueJobs({ workerId: 'test' })
  t.deepEqual(
    outcomes.map((outcome) => [outcome.name, outcome.outcome]),
    [['cards.expire', 'succeeded']]
  )
  const expired = await Card.findOrFail(card.id)
  t.is(expired.state, 'expired')
  t.truthy(expired.expiredAt)
  t.deepEqual((await history(card.id)).at(-1), {
    event: 'expired',
    from_state: 'pending_activation',
    to_state: 'expired',
    reason: null,
    related_card_id: null,
  })
  t.is((await auditActions()).at(-1), 'cards.expired')
  t.false(await blacklisted(card.id), 'an expired card needs no blacklist entry')
})
