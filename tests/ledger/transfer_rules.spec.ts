import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { AuditActor } from '#core/services/audit'

let quad: TestApp

const CASHIER: AuditActor = { type: 'user', id: 'U-CASHIER', name: 'cashier' }

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
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { default: LedgerAccount } = await import('#ledger/models/ledger_account')
  return {
    post: new PostTransfer(),
    reverse: new ReverseTransfer(),
    ...accounts,
    ...given,
    db,
    balanceOf: async (id: number) => (await LedgerAccount.findOrFail(id)).balance,
  }
}

/** Given a person whose cash wallet holds `fen`, topped up from the counter. */
async function givenWalletWith(fen: number) {
  const l = await ledger()
  const person = await l.givenPerson()
  const wallet = await l.walletFor(person.id, 'cash')
  const counter = await l.systemAccount('counter_clearing')
  if (fen > 0) {
    const result = await l.post.handle({
      idempotencyKey: l.newKey('topup'),
      kind: 'top_up',
      postings: [
        { account: counter, amount: -fen },
        { account: wallet, amount: fen },
      ],
      actor: l.TEST_TERMINAL,
    })
    if (!result.ok) throw new Error(result.error)
  }
  return { person, wallet, counter }
}

test.serial(
  'a top-up moves money from the counter to the wallet, both balances kept',
  async (t) => {
    const l = await ledger()
    const { wallet, counter } = await givenWalletWith(0)
    const counterBefore = await l.balanceOf(counter.id)
    const result = await l.post.handle({
      idempotencyKey: l.newKey(),
      kind: 'top_up',
      postings: [
        { account: counter, amount: -1250 },
        { account: wallet, amount: 1250 },
      ],
      memo: '窗口充值',
      actor: l.TEST_TERMINAL,
    })
    t.true(result.ok)
    if (!result.ok) return
    t.false(result.value.replayed)
    t.is(result.value.amount, 1250)
    t.is(await l.balanceOf(wallet.id), 1250)
    t.is(await l.balanceOf(counter.id), counterBefore - 1250)
    const walletPosting = result.value.postings.find((posting) => posting.accountId === wallet.id)!
    t.is(walletPosting.balanceAfter, 1250)
    const state = await l.bookState()
    t.deepEqual(state.mismatched, [])
    t.is(state.postingsTotal, 0)
    t.is(state.balancesTotal, 0)
  }
)

test.serial(
  'refuses transfers that do not balance or make no sense, and books nothing',
  async (t) => {
    const l = await ledger()
    const { wallet, counter } = await givenWalletWith(100)
    const before = await l.transferCount()
    const attempt = (postings: { account: number | { id: number }; amount: number }[]) =>
      l.post.handle({ idempotencyKey: l.newKey(), kind: 'top_up', postings, actor: CASHIER })

    const cases: [string, Awaited<ReturnType<typeof attempt>>][] = [
      ['empty_transfer', await attempt([])],
      [
        'unbalanced',
        await attempt([
          { account: counter, amount: -100 },
          { account: wallet, amount: 99 },
        ]),
      ],
      [
        'invalid_amount',
        await attempt([
          { account: counter, amount: 0 },
          { account: wallet, amount: 0 },
        ]),
      ],
      [
        'invalid_amount',
        await attempt([
          { account: counter, amount: -1.5 },
          { account: wallet, amount: 1.5 },
        ]),
      ],
      [
        'duplicate_account',
        await attempt([
          { account: wallet, amount: -5 },
          { account: wallet, amount: 5 },
        ]),
      ],
      [
        'unknown_account',
        await attempt([
          { account: 987654, amount: -5 },
          { account: wallet, amount: 5 },
        ]),
      ],
    ]
    for (const [error, result] of cases) t.like(result, { ok: false, error }, error)
    t.like(
      await l.post.handle({
        idempotencyKey: 'has a space',
        kind: 'top_up',
        postings: [
          { account: counter, amount: -1 },
          { account: wallet, amount: 1 },
        ],
        actor: CASHIER,
      }),
      { ok: false, error: 'invalid_key' }
    )
    t.is(await l.transferCount(), before)
    t.is(await l.balanceOf(wallet.id), 100)
  }
)

test.serial(
  'a wallet never pays more than it holds; a system account may go negative',
  async (t) => {
    const l = await ledger()
    const { wallet } = await givenWalletWith(500)
    const shop = await l.merchantAccount(7001)
    const pay = (amount: number) =>
      l.post.handle({
        idempotencyKey: l.newKey('pay'),
        kind: 'payment',
        postings: [
          { account: wallet, amount: -amount },
          { account: shop, amount },
        ],
        actor: l.TEST_TERMINAL,
      })
    const refused = await pay(501)
    t.like(refused, { ok: false, error: 'insufficient_funds' })
    if (!refused.ok) t.like(refused.details, { available: 500, requested: 501 })
    t.is(await l.balanceOf(wallet.id), 500)
    t.like(await pay(500), { ok: true })
    t.is(await l.balanceOf(wallet.id), 0)
    t.like(await pay(1), { ok: false, error: 'insufficient_funds' })

    // The subsidy funding account is the school's spending: it goes below zero by design.
    const person = await l.givenPerson()
    const subsidy = await l.walletFor(person.id, 'subsidy')
    const funding = await l.systemAccount('subsidy_funding')
    const issued = await l.post.handle({
      idempotencyKey: l.newKey('subsidy'),
      kind: 'subsidy_issue',
      postings: [
        { account: funding, amount: -30000 },
        { account: subsidy, amount: 30000 },
      ],
      actor: l.TEST_TERMINAL,
    })
    t.true(issued.ok)
    t.is(await l.balanceOf(subsidy.id), 30000)
  }
)

test.serial('refuses any transfer that touches a frozen account', async (t) => {
  const l = await ledger()
  const { wallet, counter } = await givenWalletWith(300)
  await l.db.from('ledger_accounts').where('id', wallet.id).update({ frozen: true })
  const result = await l.post.handle({
    idempotencyKey: l.newKey(),
    kind: 'top_up',
    postings: [
      { account: counter, amount: -100 },
      { account: wallet, amount: 100 },
    ],
    actor: CASHIER,
  })
  t.like(result, { ok: false, error: 'account_frozen' })
  if (!result.ok) t.is(result.details?.account, wallet.publicId)
  t.is(await l.balanceOf(wallet.id), 300)
  await l.db.from('ledger_accounts').where('id', wallet.id).update({ frozen: false })
})

test.serial('the same key books once; the same key for other content is a conflict', async (t) => {
  const l = await ledger()
  const { wallet, counter } = await givenWalletWith(0)
  const key = l.newKey('counter-form')
  const request = {
    idempotencyKey: key,
    kind: 'top_up',
    postings: [
      { account: counter, amount: -2000 },
      { account: wallet, amount: 2000 },
    ],
    metadata: { channel: 'counter' },
    actor: CASHIER,
  }
  const first = await l.post.handle(request)
  const before = await l.transferCount()
  // The same request, postings listed the other way round, metadata keys in another order.
  const second = await l.post.handle({
    ...request,
    postings: [...request.postings].reverse(),
    actor: { type: 'user', id: 'U-OTHER', name: 'another session' },
  })
  t.true(first.ok && second.ok)
  if (!first.ok || !second.ok) return
  t.true(second.value.replayed)
  t.is(second.value.publicId, first.value.publicId)
  t.deepEqual(
    second.value.postings.map((posting) => posting.balanceAfter).sort(),
    first.value.postings.map((posting) => posting.balanceAfter).sort()
  )
  t.is(await l.transferCount(), before)
  t.is(await l.balanceOf(wallet.id), 2000)

  const conflict = await l.post.handle({
    ...request,
    postings: [
      { account: counter, amount: -2500 },
      { account: wallet, amount: 2500 },
    ],
  })
  t.like(conflict, { ok: false, error: 'idempotency_conflict' })
  if (!conflict.ok) t.is(conflict.details?.transfer, first.value.publicId)
  t.is(await l.transferCount(), before)
  t.is(await l.balanceOf(wallet.id), 2000)
})

test.serial('a reversal negates the original once and references it', async (t) => {
  const l = await ledger()
  const { wallet } = await givenWalletWith(1000)
  const shop = await l.merchantAccount(7002)
  const payment = await l.post.handle({
    idempotencyKey: l.newKey('pay'),
    kind: 'payment',
    postings: [
      { account: wallet, amount: -400 },
      { account: shop, amount: 400 },
    ],
    actor: l.TEST_TERMINAL,
  })
  if (!payment.ok) return t.fail(payment.error)
  // Postings that are not the original's negation are not a reversal.
  t.like(
    await l.post.handle({
      idempotencyKey: l.newKey('fake'),
      kind: 'reversal',
      reversesTransferId: payment.value.id,
      postings: [
        { account: shop, amount: -1 },
        { account: wallet, amount: 1 },
      ],
      actor: CASHIER,
    }),
    { ok: false, error: 'reversal_mismatch' }
  )
  const reversalKey = l.newKey('reverse')
  const reversal = await l.reverse.handle({
    transfer: { publicId: payment.value.publicId },
    idempotencyKey: reversalKey,
    memo: '误扣',
    actor: CASHIER,
  })
  if (!reversal.ok) return t.fail(reversal.error)
  t.is(reversal.value.reversesTransferId, payment.value.id)
  t.is(reversal.value.kind, 'reversal')
  t.is(await l.balanceOf(wallet.id), 1000)
  t.is(await l.balanceOf(shop.id), 0)

  const replay = await l.reverse.handle({
    transfer: { publicId: payment.value.publicId },
    idempotencyKey: reversalKey,
    memo: '误扣',
    actor: CASHIER,
  })
  t.like(replay, { ok: true, value: { replayed: true, publicId: reversal.value.publicId } })
  t.like(
    await l.reverse.handle({
      transfer: { publicId: payment.value.publicId },
      idempotencyKey: l.newKey('reverse'),
      actor: CASHIER,
    }),
    { ok: false, error: 'already_reversed' }
  )
  t.like(
    await l.reverse.handle({
      transfer: { id: reversal.value.id },
      idempotencyKey: l.newKey('reverse'),
      actor: CASHIER,
    }),
    { ok: false, error: 'not_reversible' }
  )
  t.like(
    await l.reverse.handle({
      transfer: { publicId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
      idempotencyKey: l.newKey('reverse'),
      actor: CASHIER,
    }),
    { ok: false, error: 'unknown_transfer' }
  )
  t.deepEqual((await l.bookState()).mismatched, [])
})

test.serial(
  'refuses a reversal whose money is gone, or of a partly refunded payment',
  async (t) => {
    const l = await ledger()
    const { wallet, counter } = await givenWalletWith(0)
    const shop = await l.merchantAccount(7003)
    const topUp = await l.post.handle({
      idempotencyKey: l.newKey('topup'),
      kind: 'top_up',
      postings: [
        { account: counter, amount: -600 },
        { account: wallet, amount: 600 },
      ],
      actor: CASHIER,
    })
    const payment = await l.post.handle({
      idempotencyKey: l.newKey('pay'),
      kind: 'payment',
      postings: [
        { account: wallet, amount: -500 },
        { account: shop, amount: 500 },
      ],
      actor: l.TEST_TERMINAL,
    })
    if (!topUp.ok || !payment.ok) return t.fail()
    // The top-up was spent: undoing it would overdraw the wallet.
    t.like(
      await l.reverse.handle({
        transfer: { id: topUp.value.id },
        idempotencyKey: l.newKey('reverse'),
        actor: CASHIER,
      }),
      { ok: false, error: 'insufficient_funds' }
    )
    const refund = await l.post.handle({
      idempotencyKey: l.newKey('refund'),
      kind: 'refund',
      refersToTransferId: payment.value.id,
      postings: [
        { account: shop, amount: -200 },
        { account: wallet, amount: 200 },
      ],
      actor: CASHIER,
    })
    if (!refund.ok) return t.fail(refund.error)
    t.is(refund.value.refersToTransferId, payment.value.id)
    t.like(
      await l.reverse.handle({
        transfer: { id: payment.value.id },
        idempotencyKey: l.newKey('reverse'),
        actor: CASHIER,
      }),
      { ok: false, error: 'has_follow_ups' }
    )
    // Once the refund itself is reversed, the payment can be reversed in full.
    t.like(
      await l.reverse.handle({
        transfer: { id: refund.value.id },
        idempotencyKey: l.newKey('reverse'),
        actor: CASHIER,
      }),
      { ok: true }
    )
    t.like(
      await l.reverse.handle({
        transfer: { id: payment.value.id },
        idempotencyKey: l.newKey('reverse'),
        actor: CASHIER,
      }),
      { ok: true }
    )
    t.is(await l.balanceOf(wallet.id), 600)
  }
)

test.serial('people are audited per transfer, terminals are not', async (t) => {
  const l = await ledger()
  const { wallet, counter } = await givenWalletWith(0)
  const audits = async () => Number((await l.db.from('audit_entries').count('* as total'))[0].total)
  const before = await audits()
  const byCashier = await l.post.handle({
    idempotencyKey: l.newKey(),
    kind: 'top_up',
    postings: [
      { account: counter, amount: -100 },
      { account: wallet, amount: 100 },
    ],
    actor: CASHIER,
  })
  if (!byCashier.ok) return t.fail()
  t.is(await audits(), before + 1)
  const entry = await l.db.from('audit_entries').orderBy('seq', 'desc').first()
  t.is(entry.action, 'ledger.transfer_booked')
  t.is(entry.subject_id, byCashier.value.publicId)
  t.is(entry.actor_id, 'U-CASHIER')

  await l.post.handle({
    idempotencyKey: l.newKey(),
    kind: 'payment',
    postings: [
      { account: wallet, amount: -100 },
      { account: await l.merchantAccount(7004), amount: 100 },
    ],
    actor: l.TEST_TERMINAL,
  })
  t.is(await audits(), before + 1)
  const row = await l.db.from('ledger_transfers').orderBy('id', 'desc').first()
  t.is(row.actor_type, 'terminal')
  t.is(row.actor_id, 'T-TEST')
})

test.serial('a transfer booked inside a caller transaction rolls back with it', async (t) => {
  const l = await ledger()
  const { wallet, counter } = await givenWalletWith(0)
  const before = await l.transferCount()
  await t.throwsAsync(
    l.db.transaction(async (trx) => {
      const result = await l.post.handle(
        {
          idempotencyKey: l.newKey(),
          kind: 'top_up',
          postings: [
            { account: counter, amount: -700 },
            { account: wallet, amount: 700 },
          ],
          actor: l.TEST_TERMINAL,
        },
        trx
      )
      t.true(result.ok)
      throw new Error('the rest of the change failed')
    }),
    { message: 'the rest of the change failed' }
  )
  t.is(await l.transferCount(), before)
  t.is(await l.balanceOf(wallet.id), 0)
})

test.serial('postings and transfers can be neither changed nor deleted', async (t) => {
  const l = await ledger()
  const { wallet } = await givenWalletWith(800)
  const posting = await l.db.from('ledger_postings').where('account_id', wallet.id).firstOrFail()
  await t.throwsAsync(
    l.db.from('ledger_postings').where('id', posting.id).update({ amount: 8000 }),
    { any: true, message: /append-only/ }
  )
  await t.throwsAsync(l.db.from('ledger_postings').where('id', posting.id).delete(), {
    any: true,
    message: /append-only/,
  })
  await t.throwsAsync(
    l.db.from('ledger_transfers').where('id', posting.transfer_id).update({ memo: 'changed' }),
    { any: true, message: /append-only/ }
  )
  await t.throwsAsync(l.db.from('ledger_transfers').where('id', posting.transfer_id).delete(), {
    any: true,
    message: /append-only/,
  })
  await t.throwsAsync(l.db.from('ledger_accounts').where('id', wallet.id).delete(), {
    any: true,
    message: /never deleted/,
  })
  await t.throwsAsync(
    l.db.from('ledger_accounts').where('id', wallet.id).update({ kind: 'wallet_subsidy' }),
    { any: true, message: /never changes owner/ }
  )
  // Even a raw write cannot leave a wallet overdrawn.
  await t.throwsAsync(l.db.from('ledger_accounts').where('id', wallet.id).update({ balance: -1 }), {
    any: true,
    message: /ledger_accounts_not_overdrawn|CHECK constraint/i,
  })
  t.is(await l.balanceOf(wallet.id), 800)
})

test.serial('system accounts and wallets are created once, however often asked for', async (t) => {
  const l = await ledger()
  const first = await l.ensureSystemAccounts()
  const second = await l.ensureSystemAccounts()
  t.deepEqual(
    first.map((account) => account.id),
    second.map((account) => account.id)
  )
  const person = await l.givenPerson()
  const wallets = await Promise.all(
    Array.from({ length: 5 }, () => l.walletFor(person.id, 'voucher'))
  )
  t.is(new Set(wallets.map((wallet) => wallet.id)).size, 1)
  t.is(wallets[0].kind, 'wallet_voucher')
  t.is(wallets[0].normalSide, 'credit')
  t.false(wallets[0].allowNegative)
})
