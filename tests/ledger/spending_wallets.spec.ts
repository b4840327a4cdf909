import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { AuditActor } from '#core/services/audit'
import type Person from '#identity/models/person'

/**
 * Wallets beyond cash through their real interfaces: batches (audience-free
 * lists, broken rows), spending order, restrictions (category, time of day,
 * identity), meal vouchers (windows, once per window, meal value), expiry
 * sweeps, leaving refunds, card-to-card transfers and channel reconciliation.
 */
let quad: TestApp
const ADMIN: AuditActor = { type: 'user', id: 'U-WALLET', name: 'wallet admin' }
const ZONE = 'Asia/Shanghai'

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

/** Today at hh:mm, school time. */
function todayAt(time: string) {
  const [hour, minute] = time.split(':').map(Number)
  return DateTime.now().setZone(ZONE).set({ hour, minute, second: 0, millisecond: 0 })
}

async function issue(
  people: Person[],
  options: Record<string, unknown> & { kind?: 'subsidy' | 'voucher' }
) {
  const { CreateWalletBatch, IssueWalletBatch } = await import('#ledger/actions/wallet_batches')
  const created = await new CreateWalletBatch().handle({
    kind: 'subsidy',
    name: '十二月餐补',
    personNumbers: people.map((person) => person.personNo).join('\n'),
    expiresAt: DateTime.utc().plus({ days: 30 }),
    actor: ADMIN,
    ...options,
  } as any)
  if (!created.ok) throw new Error(`batch refused: ${created.error}`)
  const issued = await new IssueWalletBatch().handle({
    batch: created.value.publicId,
    actor: ADMIN,
    inline: true,
  })
  if (!issued.ok) throw new Error(issued.error)
  return created.value.publicId
}

let spendKeys = 0

/** Plans and books a spend as the payment adapters do; the plan, or null when refused. */
async function spend(
  person: Person,
  amount: number,
  context: { category?: string; at?: DateTime; merchantId?: number } = {}
) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { planSpending, recordSpending } = await import('#ledger/services/spending')
  const { merchantAccount } = await import('#ledger/services/accounts')
  const merchant = await merchantAccount(context.merchantId ?? 900_001)
  return db.transaction(async (trx) => {
    const plan = await planSpending(trx, {
      personId: person.id,
      amount,
      merchantCategory: context.category ?? 'canteen',
      merchantId: context.merchantId ?? 900_001,
      shopId: null,
      at: context.at ?? todayAt('12:00'),
    })
    if (plan.shortfall > 0) return { plan, booked: null }
    const booked = await new PostTransfer().handle(
      {
        idempotencyKey: `spend:${process.pid}:${++spendKeys}`,
        kind: 'payment',
        postings: [
          ...plan.legs.map((leg) => ({ account: leg.account, amount: -leg.amount })),
          { account: merchant, amount: plan.covered },
        ],
        actor: { type: 'terminal', id: 'T-1', name: 'till' },
      },
      trx
    )
    if (!booked.ok) throw new Error(booked.error)
    await recordSpending(trx, plan, booked.value)
    return { plan, booked: booked.value }
  })
}

async function balances(person: Person) {
  const { walletFor } = await import('#ledger/services/accounts')
  return {
    cash: (await walletFor(person.id, 'cash')).balance,
    subsidy: (await walletFor(person.id, 'subsidy')).balance,
    voucher: (await walletFor(person.id, 'voucher')).balance,
  }
}

async function topUp(person: Person, amount: number) {
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const { newKey } = await import('./given.js')
  const result = await new TopUpAtCounter().handle({
    personPublicId: person.publicId,
    amount,
    idempotencyKey: newKey('topup'),
    actor: ADMIN,
  })
  if (!result.ok) throw new Error(result.error)
}

test('a list with broken rows is refused whole and books nothing', async (t) => {
  const { CreateWalletBatch } = await import('#ledger/actions/wallet_batches')
  const { givenPerson, transferCount } = await import('./given.js')
  const person = await givenPerson()
  const before = await transferCount()
  const result = await new CreateWalletBatch().handle({
    kind: 'subsidy',
    name: '名单补贴',
    personNumbers: `学号\n${person.personNo}\nNOBODY-999\n${person.personNo}\nbad number!`,
    amountPerPerson: 1000,
    expiresAt: DateTime.utc().plus({ days: 3 }),
    actor: ADMIN,
  })
  t.false(result.ok)
  if (result.ok) return
  t.is(result.error, 'broken_rows')
  const rows = result.details!.rows as { line: number; problem: string }[]
  t.deepEqual(
    rows.map((row) => [row.line, row.problem]),
    [
      [3, 'unknown_person'],
      [4, 'duplicate'],
      [5, 'malformed'],
    ]
  )
  t.is(await transferCount(), before)

  for (const amount of [0, -5, 1.5, Number.NaN, 10 ** 12]) {
    const refused = await new CreateWalletBatch().handle({
      kind: 'subsidy',
      name: '坏金额',
      personNumbers: person.personNo,
      amountPerPerson: amount,
      expiresAt: DateTime.utc().plus({ days: 3 }),
      actor: ADMIN,
    })
    t.deepEqual(refused.ok ? 'ok' : refused.error, 'amount_out_of_range')
  }
  const past = await new CreateWalletBatch().handle({
    kind: 'subsidy',
    name: '过期',
    personNumbers: person.personNo,
    amountPerPerson: 100,
    expiresAt: DateTime.utc().minus({ minutes: 1 }),
    actor: ADMIN,
  })
  t.deepEqual(past.ok ? 'ok' : past.error, 'invalid_expiry')
})

test('issuing twice books once; spending takes restricted subsidy only where allowed, then cash', async (t) => {
  const { IssueWalletBatch, runWalletBatch } = await import('#ledger/actions/wallet_batches')
  const { givenPerson, bookState } = await import('./given.js')
  const holder = await givenPerson()
  await topUp(holder, 5000)
  const batch = await issue([holder], {
    amountPerPerson: 1500,
    merchantCategories: ['canteen'],
    timeFrom: 11 * 60,
    timeTo: 13 * 60,
  })
  // Issued again (a rerun of the job, a second click): nothing more is booked.
  t.false((await new IssueWalletBatch().handle({ batch, actor: ADMIN, inline: true })).ok)
  await runWalletBatch(batch)
  t.like(await balances(holder), { cash: 5000, subsidy: 1500 })

  // At the supermarket the canteen subsidy does not pay: cash does.
  const shop = await spend(holder, 300, { category: 'supermarket' })
  t.deepEqual(
    shop.plan.legs.map((leg) => [leg.wallet, leg.amount]),
    [['cash', 300]]
  )
  // In the canteen at 14:00 (outside 11:00–13:00): cash again.
  const late = await spend(holder, 200, { at: todayAt('14:00') })
  t.deepEqual(
    late.plan.legs.map((leg) => [leg.wallet, leg.amount]),
    [['cash', 200]]
  )
  // In the canteen at noon: subsidy first, the rest from cash.
  const lunch = await spend(holder, 2000)
  t.deepEqual(
    lunch.plan.legs.map((leg) => [leg.wallet, leg.amount]),
    [
      ['subsidy', 1500],
      ['cash', 500],
    ]
  )
  t.like(await balances(holder), { cash: 4000, subsidy: 0 })
  // More than every wallet holds: a shortfall, nothing booked.
  const tooMuch = await spend(holder, 10_000)
  t.is(tooMuch.booked, null)
  t.is(tooMuch.plan.shortfall, 6000)
  const state = await bookState()
  t.deepEqual([state.mismatched, state.unbalanced, state.overdrawn], [[], [], []])
})

test('identity restrictions and the configured spending order', async (t) => {
  const { saveWalletSettings, DEFAULT_WALLET_SETTINGS } =
    await import('#ledger/services/wallet_settings')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { givenPerson } = await import('./given.js')
  const student = await givenPerson()
  await topUp(student, 1000)
  await issue([student], { amountPerPerson: 800, identityTypes: ['staff'] })
  const staffOnly = await spend(student, 100)
  t.deepEqual(
    staffOnly.plan.legs.map((leg) => leg.wallet),
    ['cash']
  )
  await issue([student], { amountPerPerson: 700 })
  await saveWalletSettings(db.connection(), { spendingOrder: ['cash', 'voucher', 'subsidy'] })
  try {
    const cashFirst = await spend(student, 1500)
    t.deepEqual(
      cashFirst.plan.legs.map((leg) => [leg.wallet, leg.amount]),
      [
        ['cash', 900],
        ['subsidy', 600],
      ]
    )
  } finally {
    await saveWalletSettings(db.connection(), {
      spendingOrder: DEFAULT_WALLET_SETTINGS.spendingOrder,
    })
  }
})

test('meal vouchers: one per window, up to the meal value, at the configured merchants', async (t) => {
  const { givenPerson } = await import('./given.js')
  const { lotsTotal } = await import('#ledger/services/wallet_lots')
  const { walletFor } = await import('#ledger/services/accounts')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const holder = await givenPerson()
  await topUp(holder, 2000)
  await issue([holder], {
    kind: 'voucher',
    mealsPerPerson: 3,
    mealValue: 1200,
    mealWindows: ['lunch', 'dinner'],
    merchantIds: [900_001],
  })
  t.like(await balances(holder), { voucher: 3600 })
  // Breakfast is not one of the batch's meals: cash pays.
  const breakfast = await spend(holder, 500, { at: todayAt('07:30') })
  t.deepEqual(
    breakfast.plan.legs.map((leg) => leg.wallet),
    ['cash']
  )
  // Lunch of 15.00: the voucher covers 12.00, cash the rest.
  const lunch = await spend(holder, 1500, { at: todayAt('12:10') })
  t.deepEqual(
    lunch.plan.legs.map((leg) => [leg.wallet, leg.amount]),
    [
      ['voucher', 1200],
      ['cash', 300],
    ]
  )
  // A second lunch in the same window: no voucher.
  const second = await spend(holder, 800, { at: todayAt('12:40') })
  t.deepEqual(
    second.plan.legs.map((leg) => leg.wallet),
    ['cash']
  )
  // Another merchant at dinner: not one of the batch's merchants.
  const elsewhere = await spend(holder, 400, { at: todayAt('18:00'), merchantId: 900_002 })
  t.deepEqual(
    elsewhere.plan.legs.map((leg) => leg.wallet),
    ['cash']
  )
  // A small dinner: the voucher is used up for one meal, its change stays until the sweep.
  const dinner = await spend(holder, 500, { at: todayAt('18:10') })
  t.deepEqual(
    dinner.plan.legs.map((leg) => [leg.wallet, leg.amount]),
    [['voucher', 500]]
  )
  const wallet = await walletFor(holder.id, 'voucher')
  t.is(await lotsTotal(db.connection(), wallet.id), wallet.balance)
  const lot = await db.from('wallet_lots').where('account_id', wallet.id).first()
  t.is(Number(lot.meals_left), 1)
})

test('expiry sweeps subsidy back to funding; money returned to an expired lot goes too', async (t) => {
  const { ExpireWalletBatch, sweepExpiredLots } = await import('#ledger/actions/wallet_batches')
  const { givenPerson, bookState } = await import('./given.js')
  const holder = await givenPerson()
  const batch = await issue([holder], { amountPerPerson: 900 })
  await spend(holder, 400)
  const swept = await new ExpireWalletBatch().handle({ batch, actor: ADMIN })
  t.true(swept.ok)
  if (swept.ok) t.is(swept.value.amount, 500)
  t.like(await balances(holder), { subsidy: 0 })
  // The job finds nothing more, and a rerun books nothing twice.
  t.is((await sweepExpiredLots()).amount, 0)
  const state = await bookState()
  t.deepEqual([state.mismatched, state.unbalanced, state.overdrawn], [[], [], []])
})

test('a person who leaves: cash paid out at the counter, subsidies swept; only once', async (t) => {
  const { RefundOnLeaving } = await import('#ledger/actions/leave_refund')
  const { givenPerson } = await import('./given.js')
  const holder = await givenPerson()
  await topUp(holder, 2345)
  await issue([holder], { amountPerPerson: 600 })
  const early = await new RefundOnLeaving().handle({
    personPublicId: holder.publicId,
    idempotencyKey: `leave:${holder.publicId}`,
    actor: ADMIN,
  })
  t.deepEqual(early.ok ? 'ok' : early.error, 'person_not_left')
  holder.status = 'left'
  await holder.save()
  const done = await new RefundOnLeaving().handle({
    personPublicId: holder.publicId,
    idempotencyKey: `leave:${holder.publicId}`,
    actor: ADMIN,
  })
  t.true(done.ok)
  if (done.ok) {
    t.is(done.value.paidOut, 2345)
    t.is(done.value.swept.amount, 600)
  }
  t.like(await balances(holder), { cash: 0, subsidy: 0 })
  const again = await new RefundOnLeaving().handle({
    personPublicId: holder.publicId,
    idempotencyKey: `leave:${holder.publicId}`,
    actor: ADMIN,
  })
  t.true(again.ok)
  if (again.ok) t.is(again.value.paidOut, 0)
})

test('card-to-card only when enabled, within limits; reconciliation matches the counter', async (t) => {
  const { CardToCardTransfer } = await import('#ledger/actions/card_to_card')
  const { saveWalletSettings, DEFAULT_WALLET_SETTINGS } =
    await import('#ledger/services/wallet_settings')
  const { channelReconciliation } = await import('#ledger/services/channel_reconciliation')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { givenPerson, newKey } = await import('./given.js')
  const parent = await givenPerson()
  const child = await givenPerson()
  await topUp(parent, 10_000)
  const send = (amount: number, key = newKey('c2c')) =>
    new CardToCardTransfer().handle({
      fromPersonPublicId: parent.publicId,
      toPersonPublicId: child.publicId,
      amount,
      idempotencyKey: key,
      actor: ADMIN,
    })
  t.deepEqual(await send(100).then((r) => (r.ok ? 'ok' : r.error)), 'disabled')
  await saveWalletSettings(db.connection(), {
    cardToCard: { enabled: true, maxPerTransfer: 3000, maxPerDay: 5000 },
  })
  try {
    t.deepEqual(await send(3001).then((r) => (r.ok ? 'ok' : r.error)), 'amount_out_of_range')
    t.deepEqual(await send(0).then((r) => (r.ok ? 'ok' : r.error)), 'amount_out_of_range')
    const key = newKey('c2c')
    t.true((await send(3000, key)).ok)
    const replay = await send(3000, key)
    t.true(replay.ok && replay.value.replayed)
    t.deepEqual(await send(2500).then((r) => (r.ok ? 'ok' : r.error)), 'daily_limit')
    t.true((await send(2000)).ok)
    t.like(await balances(child), { cash: 5000 })
    t.like(await balances(parent), { cash: 5000 })
  } finally {
    await saveWalletSettings(db.connection(), { cardToCard: DEFAULT_WALLET_SETTINGS.cardToCard })
  }

  const today = DateTime.now().setZone(ZONE).toISODate()!
  const rows = await channelReconciliation(today, today, ZONE)
  const counter = rows.find((row) => row.channel === 'counter')!
  t.true(counter.topUps >= 10_000)
  t.is(counter.difference, 0)
  t.deepEqual(
    rows.map((row) => row.channel),
    ['counter', 'wechat_pay', 'alipay', 'unionpay', 'bank']
  )

  // Money moved on the counter's clearing account by anything but a top-up or pay-out is flagged.
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { systemAccount } = await import('#ledger/services/accounts')
  const adjusted = await new PostTransfer().handle({
    idempotencyKey: newKey('adjust'),
    kind: 'adjustment',
    postings: [
      { account: await systemAccount('counter_clearing'), amount: -777 },
      { account: await systemAccount('suspense'), amount: 777 },
    ],
    actor: ADMIN,
  })
  t.true(adjusted.ok)
  const flagged = (await channelReconciliation(today, today, ZONE)).find(
    (row) => row.channel === 'counter'
  )!
  t.is(flagged.difference, 777)
})

test('an audience batch: everyone in it once, people who left reported, nothing half-booked', async (t) => {
  const { default: Audience } = await import('#identity/models/audience')
  const { emptyAudienceRules } = await import('#identity/services/audience_rules')
  const { CreateWalletBatch, IssueWalletBatch, runWalletBatch } =
    await import('#ledger/actions/wallet_batches')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { givenPerson, bookState } = await import('./given.js')
  const stays = [await givenPerson(), await givenPerson()]
  const gone = await givenPerson()
  const audience = await Audience.create({
    name: `补贴受众 ${process.pid}`,
    description: null,
    rules: { ...emptyAudienceRules(), include: [...stays, gone].map((p) => p.personNo) },
    createdBy: null,
    archivedAt: null,
  })
  const created = await new CreateWalletBatch().handle({
    kind: 'subsidy',
    name: '受众补贴',
    audience: audience.publicId,
    amountPerPerson: 2500,
    expiresAt: DateTime.utc().plus({ days: 5 }),
    actor: ADMIN,
  })
  t.true(created.ok)
  if (!created.ok) return
  t.is(created.value.recipients, 3)
  gone.status = 'left'
  await gone.save()
  t.true((await new IssueWalletBatch().handle({ batch: created.value.publicId, actor: ADMIN })).ok)
  // Queued for the worker; run here, then again as after a crash.
  t.like(await runWalletBatch(created.value.publicId), { issued: 2, failed: 1 })
  await db
    .from('wallet_batches')
    .where('public_id', created.value.publicId)
    .update({ status: 'issuing' })
  t.like(await runWalletBatch(created.value.publicId), { issued: 2, failed: 1 })
  for (const person of stays) t.like(await balances(person), { subsidy: 2500 })
  t.like(await balances(gone), { subsidy: 0 })
  const issues = await db
    .from('ledger_transfers')
    .where('kind', 'subsidy_issue')
    .whereRaw('metadata LIKE ?', [`%${created.value.publicId}%`])
    .count('* as total')
  t.is(Number(issues[0].total), 2)
  const state = await bookState()
  t.deepEqual([state.mismatched, state.unbalanced, state.overdrawn], [[], [], []])
})
