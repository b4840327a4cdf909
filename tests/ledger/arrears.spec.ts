/**
 * Arrears (欠款) after an offline overspend: the holder sees what they owe
 * on the portal's card page, the daily reminder job records one reminder
 * (补缴提醒) per holder and day, and a counter top-up settles the arrears
 * first, in its own transaction.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp
let db: typeof import('@adonisjs/lucid/services/db').default

test.before(async () => {
  quad = await bootTestApp()
  db = (await import('@adonisjs/lucid/services/db')).default
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

/** A portal user with a student card, a device, 200 fen of cash and an offline overspend of 300. */
async function holderInArrears() {
  const { givenPerson, portalSignIn } = await import('../portal/fixtures.js')
  const { IssueCard } = await import('#cards/actions/issue_card')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const { givenHolderDevice } = await import('#tests/cards/code_fixtures')
  const { givenShop, offlineRecordOf } = await import('./offline_given.js')
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const { BookOfflinePayments } = await import('#ledger/actions/book_offline_payments')
  const given = await givenPerson()
  const issued = await new IssueCard().handle(
    { person: { id: given.person.id }, cardType: { code: 'student' } },
    SYSTEM_ACTOR
  )
  if (!issued.ok) throw new Error(issued.error)
  const device = await givenHolderDevice(issued.value.cardNo, Math.floor(Date.now() / 1000) - 3600)
  const topUp = await new TopUpAtCounter().handle({
    personPublicId: given.person.publicId,
    amount: 200,
    idempotencyKey: `arrears-spec:${given.person.publicId}`,
    actor: { type: 'user', id: 'U-CASH', name: 'cashier' },
  })
  if (!topUp.ok) throw new Error(topUp.error)
  const shop = await givenShop()
  const booked = await new BookOfflinePayments().handle({
    terminalId: 'T-ARREARS',
    records: [await offlineRecordOf(device, shop.publicId, 1, 500)],
    actor: { type: 'terminal', id: 'T-ARREARS', name: 'T-ARREARS' },
  })
  if (booked.booked !== 1) throw new Error(JSON.stringify(booked.results))
  const client = new TestClient(quad.baseUrl)
  await portalSignIn(client, given)
  return { given, client }
}

test.serial(
  'the holder sees the arrears on the card page until a top-up settles them',
  async (t) => {
    const { given, client } = await holderInArrears()
    const page = await client.get('/portal/card')
    t.is(page.status, 200)
    t.regex(page.text, /data-testid="card-arrears"/)
    t.regex(page.text, /¥3\.00/)

    const { recordArrearsReminders } = await import('#ledger/services/arrears')
    const first = await recordArrearsReminders()
    t.true(first.reminded >= 1)
    const again = await recordArrearsReminders()
    t.is(again.reminded, 0)
    const rows = await db.from('arrears_reminders').where('person_id', given.person.id)
    t.is(rows.length, 1)
    t.is(Number(rows[0].amount), 300)
    const reminded = await client.get('/portal/card')
    t.true(reminded.text.includes(first.day))

    const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
    const settled = await new TopUpAtCounter().handle({
      personPublicId: given.person.publicId,
      amount: 1000,
      idempotencyKey: `arrears-spec:settle:${given.person.publicId}`,
      actor: { type: 'user', id: 'U-CASH', name: 'cashier' },
    })
    t.true(settled.ok)
    t.is(settled.ok ? settled.value.arrearsSettled : null, 300)
    const after = await client.get('/portal/card')
    t.notRegex(after.text, /data-testid="card-arrears"/)
    // Nobody owes anything now: the next run reminds no one.
    const { holdersInArrears } = await import('#ledger/services/arrears')
    t.false((await holdersInArrears()).some((holder) => holder.personId === given.person.id))
  }
)

test.serial(
  'the reminder is a daily schedule of the worker (10:00 school time by default)',
  async (t) => {
    const { definedSchedules, definedJobNames } = await import('#appliance/services/jobs_registry')
    await import('#ledger/services/arrears_jobs')
    const schedule = definedSchedules().find((entry) => entry.name === 'ledger.arrears_reminders')
    t.truthy(schedule)
    t.is(schedule?.cron, '0 10 * * *')
    t.true(definedJobNames().includes('ledger.arrears_reminders'))
  }
)
