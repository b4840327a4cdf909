import test from 'ava'
import fc from 'fast-check'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { AuditActor } from '#core/services/audit'

/**
 * Property: whatever sequence of top-ups, payments, partial refunds,
 * reversals, subsidy issues and expiry sweeps is sent (and retried, and sent
 * again under a reused key), the ledger accepts exactly what fits, refuses
 * the rest, and the book stays balanced: every stored balance equals the sum
 * of its postings, every transfer and the whole book sum to zero, no wallet
 * or merchant is below zero, and a retry books nothing.
 */
let quad: TestApp

const PEOPLE = 3
const MERCHANTS = 2
const CASHIER: AuditActor = { type: 'user', id: 'U-PROP', name: 'property cashier' }

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

type Op =
  | { op: 'topUp'; person: number; amount: number }
  | { op: 'issueSubsidy'; person: number; amount: number }
  | { op: 'pay'; person: number; merchant: number; amount: number }
  | { op: 'refund'; pick: number; percent: number }
  | { op: 'reverse'; pick: number }
  | { op: 'expireSubsidies' }
  | { op: 'replay'; pick: number }
  | { op: 'reuseKey'; pick: number }

const person = fc.integer({ min: 0, max: PEOPLE - 1 })
const pick = fc.nat({ max: 1000 })
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('topUp' as const),
      person,
      amount: fc.integer({ min: 1, max: 5000 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('issueSubsidy' as const),
      person,
      amount: fc.integer({ min: 1, max: 3000 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('pay' as const),
      person,
      merchant: fc.integer({ min: 0, max: MERCHANTS - 1 }),
      amount: fc.integer({ min: 1, max: 4000 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('refund' as const),
      pick,
      percent: fc.integer({ min: 1, max: 100 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('reverse' as const), pick }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('expireSubsidies' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('replay' as const), pick }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('reuseKey' as const), pick }), weight: 1 }
)

interface Booked {
  id: number
  publicId: string
  kind: string
  request: any
  postings: { accountId: number; amount: number }[]
  reversed: boolean
  reversesId: number | null
  refersToId: number | null
  /** Payments: what is left to refund. */
  refundable: number
  /** Payments: who paid. */
  person?: number
  merchant?: number
}

let execution = 0

/** What the runs exercised, so that the test fails if the generator stops reaching a path. */
const seen = {
  booked: 0,
  refused: 0,
  reversed: 0,
  reversalRefused: 0,
  replayed: 0,
  conflicts: 0,
  refunds: 0,
}

async function runSequence(ops: Op[]) {
  execution += 1
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { ReverseTransfer } = await import('#ledger/actions/reverse_transfer')
  const { walletFor, merchantAccount, systemAccount } = await import('#ledger/services/accounts')
  const { givenPerson, bookState, transferCount, TEST_TERMINAL } = await import('./given.js')
  const { default: LedgerAccount } = await import('#ledger/models/ledger_account')
  const post = new PostTransfer()
  const reverse = new ReverseTransfer()

  const people = []
  for (let index = 0; index < PEOPLE; index++) {
    const holder = await givenPerson()
    people.push({
      cash: await walletFor(holder.id, 'cash'),
      subsidy: await walletFor(holder.id, 'subsidy'),
    })
  }
  const merchants = []
  for (let index = 0; index < MERCHANTS; index++)
    merchants.push(await merchantAccount(100_000 + execution * 10 + index))
  const counter = await systemAccount('counter_clearing')
  const funding = await systemAccount('subsidy_funding')

  // The model: what each wallet and merchant of this run should hold.
  const model = new Map<number, number>()
  for (const account of [...people.flatMap((p) => [p.cash, p.subsidy]), ...merchants])
    model.set(account.id, 0)
  const booked: Booked[] = []
  let keys = 0
  const key = () => `prop:${process.pid}:${execution}:${++keys}`
  const actor = () => (keys % 3 === 0 ? CASHIER : TEST_TERMINAL)

  /** Would these postings leave a wallet or merchant of the model below zero? */
  const fits = (postings: { accountId: number; amount: number }[]) =>
    postings.every(
      (posting) =>
        !model.has(posting.accountId) || model.get(posting.accountId)! + posting.amount >= 0
    )
  const apply = (postings: { accountId: number; amount: number }[]) => {
    for (const posting of postings)
      if (model.has(posting.accountId))
        model.set(posting.accountId, model.get(posting.accountId)! + posting.amount)
  }

  /** Sends a request; checks the outcome against the model's expectation. */
  const send = async (
    request: any,
    expectOk: boolean,
    extra: Partial<Booked> = {}
  ): Promise<Booked | null> => {
    const result = await post.handle(request)
    const postings = request.postings.map((posting: any) => ({
      accountId: posting.account.id ?? posting.account,
      amount: posting.amount,
    }))
    if (expectOk !== result.ok) {
      throw new Error(
        `expected ${expectOk ? 'a booking' : 'a refusal'} for ${request.kind}: ${JSON.stringify(result.ok ? result.value.publicId : result)}`
      )
    }
    if (!result.ok) {
      if (result.error !== 'insufficient_funds')
        throw new Error(`unexpected refusal ${result.error} for ${request.kind}`)
      seen.refused += 1
      return null
    }
    if (result.value.replayed) throw new Error('a new request was answered as a replay')
    apply(postings)
    seen.booked += 1
    if (request.kind === 'refund') seen.refunds += 1
    const entry: Booked = {
      id: result.value.id,
      publicId: result.value.publicId,
      kind: request.kind,
      request,
      postings,
      reversed: false,
      reversesId: request.reversesTransferId ?? null,
      refersToId: request.refersToTransferId ?? null,
      refundable: 0,
      ...extra,
    }
    booked.push(entry)
    return entry
  }

  for (const op of ops) {
    switch (op.op) {
      case 'topUp': {
        await send(
          {
            idempotencyKey: key(),
            kind: 'top_up',
            postings: [
              { account: counter, amount: -op.amount },
              { account: people[op.person].cash, amount: op.amount },
            ],
            metadata: { channel: 'counter' },
            actor: actor(),
          },
          true
        )
        break
      }
      case 'issueSubsidy': {
        await send(
          {
            idempotencyKey: key(),
            kind: 'subsidy_issue',
            postings: [
              { account: funding, amount: -op.amount },
              { account: people[op.person].subsidy, amount: op.amount },
            ],
            actor: actor(),
          },
          true
        )
        break
      }
      case 'pay': {
        // Subsidy is spent first, then cash.
        const holder = people[op.person]
        const fromSubsidy = Math.min(model.get(holder.subsidy.id)!, op.amount)
        const fromCash = op.amount - fromSubsidy
        const postings = [{ account: merchants[op.merchant], amount: op.amount }]
        if (fromSubsidy > 0) postings.push({ account: holder.subsidy, amount: -fromSubsidy })
        if (fromCash > 0) postings.push({ account: holder.cash, amount: -fromCash })
        await send(
          { idempotencyKey: key(), kind: 'payment', postings, actor: TEST_TERMINAL },
          fromCash <= model.get(holder.cash.id)!,
          { refundable: op.amount, person: op.person, merchant: op.merchant }
        )
        break
      }
      case 'refund': {
        const payments = booked.filter(
          (entry) => entry.kind === 'payment' && !entry.reversed && entry.refundable > 0
        )
        if (payments.length === 0) break
        const payment = payments[op.pick % payments.length]
        const amount = Math.max(1, Math.floor((payment.refundable * op.percent) / 100))
        const postings = [
          { account: merchants[payment.merchant!], amount: -amount },
          { account: people[payment.person!].cash, amount },
        ]
        const refund = await send(
          {
            idempotencyKey: key(),
            kind: 'refund',
            refersToTransferId: payment.id,
            postings,
            actor: actor(),
          },
          fits(
            postings.map((posting) => ({ accountId: posting.account.id, amount: posting.amount }))
          )
        )
        if (refund) payment.refundable -= amount
        break
      }
      case 'reverse': {
        if (booked.length === 0) break
        const original = booked[op.pick % booked.length]
        const negated = original.postings.map((posting) => ({
          ...posting,
          amount: -posting.amount,
        }))
        const followUps = booked.filter(
          (entry) => entry.refersToId === original.id && !entry.reversed
        )
        const expected =
          original.reversesId !== null
            ? 'not_reversible'
            : original.reversed
              ? 'already_reversed'
              : followUps.length > 0
                ? 'has_follow_ups'
                : fits(negated)
                  ? 'ok'
                  : 'insufficient_funds'
        const reversalKey = key()
        const result = await reverse.handle({
          transfer: { publicId: original.publicId },
          idempotencyKey: reversalKey,
          actor: actor(),
        })
        const outcome = result.ok ? 'ok' : result.error
        if (outcome !== expected)
          throw new Error(`reversal of ${original.kind}: expected ${expected}, got ${outcome}`)
        if (!result.ok) seen.reversalRefused += 1
        if (result.ok) {
          seen.reversed += 1
          apply(negated)
          original.reversed = true
          // A reversed refund gives its amount back to the payment's refundable rest.
          if (original.kind === 'refund') {
            const payment = booked.find((entry) => entry.id === original.refersToId)!
            payment.refundable += original.postings.find((p) => p.amount > 0)!.amount
          }
          booked.push({
            id: result.value.id,
            publicId: result.value.publicId,
            kind: 'reversal',
            request: {
              idempotencyKey: reversalKey,
              kind: 'reversal',
              postings: negated.map((posting) => ({
                account: posting.accountId,
                amount: posting.amount,
              })),
              reversesTransferId: original.id,
              actor: actor(),
            },
            postings: negated,
            reversed: false,
            reversesId: original.id,
            refersToId: null,
            refundable: 0,
          })
        }
        break
      }
      case 'expireSubsidies': {
        for (const holder of people) {
          const left = model.get(holder.subsidy.id)!
          if (left === 0) continue
          await send(
            {
              idempotencyKey: key(),
              kind: 'subsidy_expiry',
              postings: [
                { account: holder.subsidy, amount: -left },
                { account: funding, amount: left },
              ],
              actor: TEST_TERMINAL,
            },
            true
          )
        }
        break
      }
      case 'replay': {
        if (booked.length === 0) break
        const original = booked[op.pick % booked.length]
        const count = await transferCount()
        const result = await post.handle({ ...original.request, actor: CASHIER })
        if (!result.ok || !result.value.replayed || result.value.publicId !== original.publicId)
          throw new Error(`replay of ${original.kind} did not answer with the first transfer`)
        if ((await transferCount()) !== count) throw new Error('a replay booked a transfer')
        seen.replayed += 1
        break
      }
      case 'reuseKey': {
        if (booked.length === 0) break
        const original = booked[op.pick % booked.length]
        const count = await transferCount()
        const result = await post.handle({
          ...original.request,
          postings: original.request.postings.map((posting: any) => ({
            ...posting,
            amount: posting.amount * 2,
          })),
        })
        if (result.ok || result.error !== 'idempotency_conflict')
          throw new Error(
            `a key reused for other content was not a conflict: ${JSON.stringify(result)}`
          )
        if ((await transferCount()) !== count)
          throw new Error('a conflicting request booked a transfer')
        seen.conflicts += 1
        break
      }
    }
  }

  // The book as a whole.
  const state = await bookState()
  if (state.mismatched.length > 0)
    throw new Error(`balances differ: ${JSON.stringify(state.mismatched)}`)
  if (state.unbalanced.length > 0)
    throw new Error(`unbalanced transfers: ${JSON.stringify(state.unbalanced)}`)
  if (state.overdrawn.length > 0) throw new Error(`overdrawn: ${JSON.stringify(state.overdrawn)}`)
  if (state.postingsTotal !== 0 || state.balancesTotal !== 0)
    throw new Error(
      `the book does not sum to zero: ${state.postingsTotal} / ${state.balancesTotal}`
    )
  // And this run's accounts hold exactly what the model says.
  for (const [accountId, expected] of model) {
    const stored = (await LedgerAccount.findOrFail(accountId)).balance
    if (stored !== expected)
      throw new Error(`account ${accountId}: stored ${stored}, model ${expected}`)
  }
}

test.serial('random sequences of money requests keep the books balanced', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 30 }), async (ops) => {
      await runSequence(ops)
    }),
    { numRuns: 100 }
  )
  for (const [path, count] of Object.entries(seen)) t.true(count > 0, `never exercised: ${path}`)
  const { verifyLedger } = await import('#ledger/services/ledger_verify')
  const verified = await verifyLedger()
  t.true(verified.ok, JSON.stringify(verified.problems.slice(0, 5)))
  t.true(verified.transfers > 40)
})
