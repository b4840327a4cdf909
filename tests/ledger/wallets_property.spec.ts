import test from 'ava'
import fc from 'fast-check'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { AuditActor } from '#core/services/audit'

/**
 * Property: whatever sequence of subsidy issues (restricted to canteens or
 * not), cash top-ups, spends (planned by planSpending, booked by
 * PostTransfer, lots recorded), reversals of spends (lots given back) and
 * batch expiries is run, the book stays balanced, no wallet goes below zero,
 * no lot goes below zero and the lots of every subsidy wallet add up to its
 * balance.
 */
let quad: TestApp
const PEOPLE = 2
const ADMIN: AuditActor = { type: 'user', id: 'U-WALLETS', name: 'wallet property' }

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

type Op =
  | { op: 'issue'; person: number; amount: number; canteenOnly: boolean }
  | { op: 'issueVouchers'; person: number; meals: number; mealValue: number }
  | { op: 'topUp'; person: number; amount: number }
  | { op: 'spend'; person: number; amount: number; canteen: boolean }
  | { op: 'reverse'; pick: number }
  | { op: 'expire'; pick: number }

const person = fc.integer({ min: 0, max: PEOPLE - 1 })
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('issue' as const),
      person,
      amount: fc.integer({ min: 1, max: 3000 }),
      canteenOnly: fc.boolean(),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('issueVouchers' as const),
      person,
      meals: fc.integer({ min: 1, max: 3 }),
      mealValue: fc.integer({ min: 1, max: 1500 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('topUp' as const),
      person,
      amount: fc.integer({ min: 1, max: 3000 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('spend' as const),
      person,
      amount: fc.integer({ min: 1, max: 4000 }),
      canteen: fc.boolean(),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('reverse' as const), pick: fc.nat(1000) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('expire' as const), pick: fc.nat(1000) }), weight: 1 }
)

let run = 0
const seen = {
  spends: 0,
  subsidyLegs: 0,
  voucherLegs: 0,
  reversed: 0,
  swept: 0,
  restrictedChecked: 0,
}

async function runSequence(ops: Op[]) {
  run += 1
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { ReverseTransfer } = await import('#ledger/actions/reverse_transfer')
  const { CreateWalletBatch, IssueWalletBatch, ExpireWalletBatch } =
    await import('#ledger/actions/wallet_batches')
  const { planSpending, recordSpending, recordReturn } = await import('#ledger/services/spending')
  const { walletFor, merchantAccount, systemAccount } = await import('#ledger/services/accounts')
  const { lotsTotal } = await import('#ledger/services/wallet_lots')
  const { givenPerson, bookState, selectRows, TEST_TERMINAL } = await import('./given.js')

  const people: { id: number; personNo: string }[] = []
  for (let index = 0; index < PEOPLE; index++) people.push(await givenPerson('补贴测试'))
  const merchant = await merchantAccount(500_000 + run)
  const counter = await systemAccount('counter_clearing')
  const batches: string[] = []
  const spends: { id: number; reversed: boolean; canteen: boolean }[] = []
  let keys = 0
  const key = () => `wprop:${process.pid}:${run}:${++keys}`

  for (const op of ops) {
    if (op.op === 'issue') {
      const created = await new CreateWalletBatch().handle({
        kind: 'subsidy',
        name: `补贴 ${run}-${keys}`,
        personNumbers: people[op.person].personNo,
        amountPerPerson: op.amount,
        merchantCategories: op.canteenOnly ? ['canteen'] : [],
        expiresAt: DateTime.utc().plus({ days: 30 }),
        actor: ADMIN,
      })
      if (!created.ok) throw new Error(`batch refused: ${created.error}`)
      const issued = await new IssueWalletBatch().handle({
        batch: created.value.publicId,
        actor: ADMIN,
        inline: true,
      })
      if (!issued.ok) throw new Error(`issue refused: ${issued.error}`)
      batches.push(created.value.publicId)
      keys += 1
    } else if (op.op === 'issueVouchers') {
      const created = await new CreateWalletBatch().handle({
        kind: 'voucher',
        name: `餐券 ${run}-${keys}`,
        personNumbers: people[op.person].personNo,
        mealsPerPerson: op.meals,
        mealValue: op.mealValue,
        expiresAt: DateTime.utc().plus({ days: 30 }),
        actor: ADMIN,
      })
      if (!created.ok) throw new Error(`voucher batch refused: ${created.error}`)
      const issued = await new IssueWalletBatch().handle({
        batch: created.value.publicId,
        actor: ADMIN,
        inline: true,
      })
      if (!issued.ok) throw new Error(`issue refused: ${issued.error}`)
      batches.push(created.value.publicId)
      keys += 1
    } else if (op.op === 'topUp') {
      const wallet = await walletFor(people[op.person].id, 'cash')
      const booked = await new PostTransfer().handle({
        idempotencyKey: key(),
        kind: 'top_up',
        postings: [
          { account: counter, amount: -op.amount },
          { account: wallet, amount: op.amount },
        ],
        actor: TEST_TERMINAL,
      })
      if (!booked.ok) throw new Error(booked.error)
    } else if (op.op === 'spend') {
      const spendKey = key()
      await db.transaction(async (trx) => {
        const plan = await planSpending(trx, {
          personId: people[op.person].id,
          amount: op.amount,
          merchantCategory: op.canteen ? 'canteen' : 'supermarket',
          merchantId: null,
          shopId: null,
          at: DateTime.now().setZone('Asia/Shanghai').set({ hour: 12, minute: 0 }),
        })
        if (plan.covered + plan.shortfall !== op.amount) throw new Error('plan does not add up')
        if (plan.shortfall > 0) return
        const booked = await new PostTransfer().handle(
          {
            idempotencyKey: spendKey,
            kind: 'payment',
            postings: [
              ...plan.legs.map((leg) => ({ account: leg.account, amount: -leg.amount })),
              { account: merchant, amount: plan.covered },
            ],
            actor: TEST_TERMINAL,
          },
          trx
        )
        if (!booked.ok) throw new Error(`planned spend refused: ${booked.error}`)
        await recordSpending(trx, plan, booked.value)
        spends.push({ id: booked.value.id, reversed: false, canteen: op.canteen })
        seen.spends += 1
        if (plan.legs.some((leg) => leg.wallet === 'subsidy')) seen.subsidyLegs += 1
        if (plan.legs.some((leg) => leg.wallet === 'voucher')) seen.voucherLegs += 1
      })
    } else if (op.op === 'reverse') {
      const open = spends.filter((spend) => !spend.reversed)
      if (open.length === 0) continue
      const spend = open[op.pick % open.length]
      await db.transaction(async (trx) => {
        const reversed = await new ReverseTransfer().handle(
          { transfer: { id: spend.id }, idempotencyKey: key(), actor: TEST_TERMINAL },
          trx
        )
        if (!reversed.ok) throw new Error(`reversal refused: ${reversed.error}`)
        await recordReturn(trx, reversed.value, spend.id)
        spend.reversed = true
        seen.reversed += 1
      })
    } else if (op.op === 'expire') {
      if (batches.length === 0) continue
      const batch = batches[op.pick % batches.length]
      const swept = await new ExpireWalletBatch().handle({ batch, actor: ADMIN })
      if (swept.ok && swept.value.amount > 0) seen.swept += 1
    }
  }

  const state = await bookState()
  if (state.mismatched.length || state.unbalanced.length || state.overdrawn.length)
    throw new Error(`book not balanced: ${JSON.stringify(state)}`)
  if (state.postingsTotal !== 0 || state.balancesTotal !== 0)
    throw new Error('book does not sum to zero')
  for (const holder of people) {
    for (const kind of ['subsidy', 'voucher'] as const) {
      const wallet = await walletFor(holder.id, kind)
      const total = await lotsTotal(db.connection(), wallet.id)
      if (total !== wallet.balance)
        throw new Error(`lots ${total} differ from the ${kind} wallet's balance ${wallet.balance}`)
    }
    // At most one voucher meal per person per window.
    const slots = await selectRows(
      `SELECT meal_slot, SUM(meals) AS meals FROM wallet_lot_uses
       WHERE person_id = ? AND meal_slot IS NOT NULL GROUP BY meal_slot`,
      [holder.id]
    )
    if (slots.some((slot) => Number(slot.meals) > 1)) throw new Error('two vouchers in one window')
  }
  const negative = await selectRows('SELECT id FROM wallet_lots WHERE remaining < 0')
  if (negative.length > 0) throw new Error('a lot went below zero')
  // Money of a canteen-only batch was never spent at the supermarket.
  const elsewhere = spends.filter((spend) => !spend.canteen).map((spend) => spend.id)
  const misuse = await selectRows(`
    SELECT u.id FROM wallet_lot_uses u
    JOIN wallet_lots l ON l.id = u.lot_id
    JOIN wallet_batches b ON b.id = l.batch_id
    WHERE u.kind = 'spend' AND u.amount > 0 AND b.merchant_categories LIKE '%canteen%'
      AND u.transfer_id IN (${elsewhere.join(',') || 0})`)
  if (elsewhere.length > 0 && misuse.length === 0) seen.restrictedChecked += 1
  if (misuse.length > 0) throw new Error('restricted money spent elsewhere')
}

test('subsidy issues, spends, reversals and expiries keep the books and lots in step', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 20 }), async (ops) => {
      try {
        await runSequence(ops)
      } catch (error) {
        console.error(String((error as Error).stack))
        throw error
      }
    }),
    {
      numRuns: 15,
      verbose: 1,
      // One sequence that takes every path, whatever the random ones reach.
      examples: [
        [
          [
            { op: 'issue', person: 0, amount: 1000, canteenOnly: true },
            { op: 'issueVouchers', person: 0, meals: 2, mealValue: 800 },
            { op: 'topUp', person: 0, amount: 3000 },
            { op: 'spend', person: 0, amount: 500, canteen: false },
            { op: 'spend', person: 0, amount: 2500, canteen: true },
            { op: 'reverse', pick: 1 },
            { op: 'spend', person: 0, amount: 300, canteen: true },
            { op: 'expire', pick: 0 },
          ],
        ],
      ],
    }
  )
  t.true(seen.spends > 0)
  t.true(seen.subsidyLegs > 0)
  t.true(seen.voucherLegs > 0)
  t.true(seen.reversed > 0)
  t.true(seen.swept > 0)
  t.true(seen.restrictedChecked > 0)
})
