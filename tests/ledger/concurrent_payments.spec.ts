import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

/**
 * Many requests at once against one wallet. On PostgreSQL each runs in its
 * own transaction on its own pooled connection, so they truly overlap and
 * the row locks decide; on SQLite the one connection takes them in turn.
 * Both must end the same way.
 */
let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

async function ledger() {
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { ReverseTransfer } = await import('#ledger/actions/reverse_transfer')
  const accounts = await import('#ledger/services/accounts')
  const given = await import('./given.js')
  const { default: LedgerAccount } = await import('#ledger/models/ledger_account')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return {
    post: new PostTransfer(),
    reverse: new ReverseTransfer(),
    ...accounts,
    ...given,
    db,
    balanceOf: async (id: number) => (await LedgerAccount.findOrFail(id)).balance,
  }
}

async function givenWalletWith(fen: number) {
  const l = await ledger()
  const person = await l.givenPerson()
  const wallet = await l.walletFor(person.id, 'cash')
  const counter = await l.systemAccount('counter_clearing')
  const topUp = await l.post.handle({
    idempotencyKey: l.newKey('topup'),
    kind: 'top_up',
    postings: [
      { account: counter, amount: -fen },
      { account: wallet, amount: fen },
    ],
    actor: l.TEST_TERMINAL,
  })
  if (!topUp.ok) throw new Error(topUp.error)
  return { person, wallet }
}

test.serial(
  '20 concurrent payments of 30 fen from 500 fen: 16 succeed and nothing is overspent',
  async (t) => {
    const l = await ledger()
    const { wallet } = await givenWalletWith(500)
    const shop = await l.merchantAccount(9001)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        l.post.handle({
          idempotencyKey: l.newKey(`pos-${index}`),
          kind: 'payment',
          postings: [
            { account: wallet, amount: -30 },
            { account: shop, amount: 30 },
          ],
          actor: l.TEST_TERMINAL,
        })
      )
    )
    const succeeded = results.filter((result) => result.ok)
    const refused = results.filter((result) => !result.ok)
    t.is(succeeded.length, 16)
    t.true(refused.every((result) => !result.ok && result.error === 'insufficient_funds'))
    t.is(await l.balanceOf(wallet.id), 20)
    t.is(await l.balanceOf(shop.id), 480)
    // The balance_after of the wallet's payments is every step from 470 down to 20, once each.
    const steps = succeeded
      .map(
        (result) =>
          result.ok && result.value.postings.find((p) => p.accountId === wallet.id)!.balanceAfter
      )
      .sort((a, b) => Number(b) - Number(a))
    t.deepEqual(
      steps,
      Array.from({ length: 16 }, (_, index) => 470 - index * 30)
    )
    const state = await l.bookState()
    t.deepEqual(state.mismatched, [])
    t.deepEqual(state.overdrawn, [])
    t.is(state.postingsTotal, 0)
  }
)

test.serial(
  'concurrent retries under one key book once and all answer with that transfer',
  async (t) => {
    const l = await ledger()
    const { wallet } = await givenWalletWith(1000)
    const shop = await l.merchantAccount(9002)
    const before = await l.transferCount()
    const key = l.newKey('terminal-7:seq-42')
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        l.post.handle({
          idempotencyKey: key,
          kind: 'payment',
          postings: [
            { account: wallet, amount: -250 },
            { account: shop, amount: 250 },
          ],
          actor: l.TEST_TERMINAL,
        })
      )
    )
    t.true(results.every((result) => result.ok))
    const ids = new Set(results.map((result) => result.ok && result.value.publicId))
    t.is(ids.size, 1)
    t.is(results.filter((result) => result.ok && !result.value.replayed).length, 1)
    t.is(await l.transferCount(), before + 1)
    t.is(await l.balanceOf(wallet.id), 750)
  }
)

test.serial(
  'concurrent requests reusing one key for different content: one books, the rest conflict',
  async (t) => {
    const l = await ledger()
    // Different wallets and merchants, so that the requests do not wait on
    // each other's locks and meet at the unique index instead.
    const wallets = await Promise.all(Array.from({ length: 6 }, () => givenWalletWith(100)))
    const shops = await Promise.all(wallets.map((_, index) => l.merchantAccount(9100 + index)))
    const before = await l.transferCount()
    const key = l.newKey('reused')
    const results = await Promise.all(
      wallets.map(({ wallet }, index) =>
        l.post.handle({
          idempotencyKey: key,
          kind: 'payment',
          postings: [
            { account: wallet, amount: -10 },
            { account: shops[index], amount: 10 },
          ],
          actor: l.TEST_TERMINAL,
        })
      )
    )
    t.is(results.filter((result) => result.ok).length, 1)
    t.true(
      results.every((result) => result.ok || result.error === 'idempotency_conflict'),
      JSON.stringify(results.filter((result) => !result.ok))
    )
    t.is(await l.transferCount(), before + 1)
    const balances = await Promise.all(wallets.map(({ wallet }) => l.balanceOf(wallet.id)))
    t.deepEqual(
      balances.sort((a, b) => a - b),
      [90, 100, 100, 100, 100, 100]
    )
  }
)

test.serial('concurrent reversals of one transfer: exactly one is booked', async (t) => {
  const l = await ledger()
  const { wallet } = await givenWalletWith(300)
  const shop = await l.merchantAccount(9004)
  const payment = await l.post.handle({
    idempotencyKey: l.newKey('pay'),
    kind: 'payment',
    postings: [
      { account: wallet, amount: -120 },
      { account: shop, amount: 120 },
    ],
    actor: l.TEST_TERMINAL,
  })
  if (!payment.ok) return t.fail(payment.error)
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, index) =>
      l.reverse.handle({
        transfer: { id: payment.value.id },
        idempotencyKey: l.newKey(`reverse-${index}`),
        actor: l.TEST_TERMINAL,
      })
    )
  )
  t.is(results.filter((result) => result.ok).length, 1)
  t.true(results.every((result) => result.ok || result.error === 'already_reversed'))
  t.is(await l.balanceOf(wallet.id), 300)
  t.is(await l.balanceOf(shop.id), 0)
})

test.serial('payments from many wallets to one merchant at once all land', async (t) => {
  const l = await ledger()
  const wallets = await Promise.all(Array.from({ length: 10 }, () => givenWalletWith(1000)))
  const shop = await l.merchantAccount(9005)
  const results = await Promise.all(
    wallets.flatMap(({ wallet }, index) =>
      Array.from({ length: 3 }, (_, round) =>
        l.post.handle({
          idempotencyKey: l.newKey(`w${index}-r${round}`),
          kind: 'payment',
          postings: [
            { account: wallet, amount: -100 },
            { account: shop, amount: 100 },
          ],
          actor: l.TEST_TERMINAL,
        })
      )
    )
  )
  t.true(results.every((result) => result.ok))
  t.is(await l.balanceOf(shop.id), 3000)
  for (const { wallet } of wallets) t.is(await l.balanceOf(wallet.id), 700)
  t.deepEqual((await l.bookState()).mismatched, [])
})
