/**
 * The nightly upgrade: student cards become alumni cards when their holder
 * graduates or their expected graduation date passes, history kept.
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
    { no: 'G001', graduation: '2099-07-01' },
    { no: 'G002', graduation: '2099-07-01' },
    { no: 'G003', graduation: '2099-07-01' },
    { no: 'G004', graduation: '2099-07-01' },
  ])
})

test.after.always(async () => {
  await quad?.close()
})

async function studentCard(no: string) {
  const { IssueCard } = await import('#cards/actions/issue_card')
  const result = await new IssueCard().handle(
    { person: { id: people.get(no)!.id }, cardType: { code: 'student' } },
    ADMIN
  )
  if (!result.ok) throw new Error(result.error)
  return result.value
}

async function runUpgradeJob() {
  const { enqueue, runDueJobs } = await import('#appliance/services/jobs')
  const { upgradeGraduatesJob } = await import('#cards/services/card_jobs')
  await enqueue(upgradeGraduatesJob, null)
  return (await runDueJobs({ workerId: 'test' })).map((outcome) => [outcome.name, outcome.outcome])
}

test.serial('upgrades graduates to alumni cards at night and keeps the history', async (t) => {
  const { ChangePersonStatus } = await import('#identity/actions/change_person_status')
  const { CreateUpgradeRule } = await import('#cards/actions/save_upgrade_rule')
  const { FreezeCard } = await import('#cards/actions/freeze_card')
  const { ActivateCard } = await import('#cards/actions/activate_card')
  const { BindPhysicalCard } = await import('#cards/actions/bind_physical_card')
  const { default: Card } = await import('#cards/models/card')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { cardType, history, liveCards, auditActions } = await import('./fixtures.js')

  const staying = await studentCard('G001')
  const graduate = await studentCard('G002')
  const pastDate = await studentCard('G003')
  const frozen = await studentCard('G004')
  await new ActivateCard().handle({ card: { id: graduate.id } }, ADMIN)
  await new BindPhysicalCard().handle({ card: { id: graduate.id }, uid: '11223344' }, ADMIN)
  await new FreezeCard().handle({ card: { id: frozen.id }, by: 'holder', reason: 'lost' }, ADMIN)
  for (const no of ['G002', 'G004']) {
    const changed = await new ChangePersonStatus().handle(
      { publicId: people.get(no)!.publicId, status: 'graduated', reason: '毕业' },
      ADMIN
    )
    t.true(changed.ok)
  }
  // G003's expected graduation date is now behind them, their status unchanged.
  await db
    .from('people')
    .where('id', people.get('G003')!.id)
    .update({ expected_graduation_date: '2020-07-01' })

  // Only the seeded rule (status becomes graduated) is on so far.
  t.deepEqual(await runUpgradeJob(), [['cards.upgrade_graduates', 'succeeded']])
  const old = await Card.findOrFail(graduate.id)
  t.is(old.state, 'revoked')
  t.is(old.revokedReason, 'upgraded')
  const alumni = await Card.findOrFail(old.replacedById!)
  t.is(alumni.cardTypeId, (await cardType('alumni')).id)
  t.is(alumni.state, 'pending_activation')
  t.is(alumni.replacesId, old.id)
  t.is(alumni.validUntil, null, 'alumni cards have no end')
  t.like(
    (await history(old.id)).find((event) => event.event === 'upgraded'),
    {
      to_state: 'revoked',
      reason: 'upgraded',
      related_card_id: alumni.id,
    }
  )
  t.like((await history(alumni.id))[0], {
    event: 'issued',
    reason: 'upgraded',
    related_card_id: old.id,
  })
  const physical = await db.from('physical_cards').where('uid', '11223344').first()
  t.is(physical.card_id, alumni.id, 'the physical card moves to the alumni card')
  t.true((await auditActions()).includes('cards.upgraded'))

  t.is((await Card.findOrFail(staying.id)).state, 'pending_activation', 'still a student')
  t.is((await Card.findOrFail(frozen.id)).state, 'frozen', 'a frozen card waits')
  t.is((await Card.findOrFail(pastDate.id)).state, 'pending_activation', 'that rule is not on yet')

  // The date rule, added in the console, catches G003 the next night.
  const student = await cardType('student')
  const alumniType = await cardType('alumni')
  const rule = await new CreateUpgradeRule().handle(
    {
      fromType: student.publicId,
      toType: alumniType.publicId,
      trigger: 'graduation_date_passed',
    },
    ADMIN
  )
  t.true(rule.ok)
  t.like(
    await new CreateUpgradeRule().handle(
      {
        fromType: student.publicId,
        toType: alumniType.publicId,
        trigger: 'graduation_date_passed',
      },
      ADMIN
    ),
    { ok: false, error: 'duplicate' }
  )
  t.deepEqual(await runUpgradeJob(), [['cards.upgrade_graduates', 'succeeded']])
  t.is((await Card.findOrFail(pastDate.id)).revokedReason, 'upgraded')
  t.deepEqual(
    (await liveCards(people.get('G003')!.id)).map((card) => card.code),
    ['alumni']
  )

  // Running again changes nothing.
  const cardsBefore = Number((await db.from('cards').count('* as total').first())!.total)
  t.deepEqual(await runUpgradeJob(), [['cards.upgrade_graduates', 'succeeded']])
  t.is(Number((await db.from('cards').count('* as total').first())!.total), cardsBefore)
  t.deepEqual(
    (await liveCards(people.get('G002')!.id)).map((card) => card.code),
    ['alumni']
  )
})

test.serial('a disabled rule upgrades nobody', async (t) => {
  const { SetUpgradeRuleEnabled } = await import('#cards/actions/save_upgrade_rule')
  const { UpgradeGraduates } = await import('#cards/actions/upgrade_graduates')
  const { default: CardUpgradeRule } = await import('#cards/models/card_upgrade_rule')
  const { givenPeople } = await import('./fixtures.js')
  const { ChangePersonStatus } = await import('#identity/actions/change_person_status')
  people = new Map([...people, ...(await givenPeople([{ no: 'G005', graduation: '2099-07-01' }]))])
  const card = await studentCard('G005')
  await new ChangePersonStatus().handle(
    { publicId: people.get('G005')!.publicId, status: 'graduated', reason: '毕业' },
    ADMIN
  )
  for (const rule of await CardUpgradeRule.all()) {
    await new SetUpgradeRuleEnabled().handle({ rule: rule.publicId, enabled: false }, ADMIN)
  }
  const summary = await new UpgradeGraduates().handle({ today: DateTime.now() })
  t.is(summary.upgraded, 0)
  const { default: Card } = await import('#cards/models/card')
  t.is((await Card.findOrFail(card.id)).state, 'pending_activation')
})
