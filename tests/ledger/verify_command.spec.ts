import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp
let walletId: number
let walletPublicId: string

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { ReverseTransfer } = await import('#ledger/actions/reverse_transfer')
  const { walletFor, merchantAccount, systemAccount } = await import('#ledger/services/accounts')
  const { givenPerson, newKey, TEST_TERMINAL } = await import('./given.js')
  const person = await givenPerson()
  const wallet = await walletFor(person.id, 'cash')
  walletId = wallet.id
  walletPublicId = wallet.publicId
  const counter = await systemAccount('counter_clearing')
  const shop = await merchantAccount(1)
  const post = new PostTransfer()
  await post.handle({
    idempotencyKey: newKey(),
    kind: 'top_up',
    postings: [
      { account: counter, amount: -5000 },
      { account: wallet, amount: 5000 },
    ],
    actor: TEST_TERMINAL,
  })
  for (const amount of [120, 80, 1450]) {
    const paid = await post.handle({
      idempotencyKey: newKey(),
      kind: 'payment',
      postings: [
        { account: wallet, amount: -amount },
        { account: shop, amount },
      ],
      actor: TEST_TERMINAL,
    })
    if (amount === 80 && paid.ok)
      await new ReverseTransfer().handle({
        transfer: { id: paid.value.id },
        idempotencyKey: newKey(),
        actor: TEST_TERMINAL,
      })
  }
})

test.after.always(async () => {
  await quad?.close()
})

async function verify(...args: string[]) {
  const { runAce, aceEnvironment } = await import('#tests/helpers/ace')
  return runAce(['ledger:verify', ...args], { env: aceEnvironment(quad) })
}

test.serial('a clean book verifies and exits 0', async (t) => {
  const result = await verify()
  t.is(result.code, 0, result.output)
  t.regex(result.output, /OK: \d+ accounts, 5 transfers, 10 postings/)
  const json = await verify('--json', '--batch-size', '2')
  t.is(json.code, 0, json.output)
  const report = JSON.parse(json.stdout.trim().split('\n').at(-1)!)
  t.like(report, { ok: true, transfers: 5, postings: 10, postingsTotal: 0, balancesTotal: 0 })
})

test.serial(
  'a stored balance changed behind the ledger is reported with its account, exit 1',
  async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    await db
      .from('ledger_accounts')
      .where('id', walletId)
      .update({ balance: 3430 + 100 })
    try {
      const result = await verify()
      t.is(result.code, 1, result.output)
      t.true(result.output.includes(walletPublicId), result.output)
      t.regex(result.output, /stored balance 35\.30, postings sum to 34\.30, difference 1\.00/)
      t.regex(result.output, /does not sum to zero/)
      const json = await verify('--json')
      const report = JSON.parse(json.stdout.trim().split('\n').at(-1)!)
      t.false(report.ok)
      t.like(report.problems[0], {
        type: 'balance_mismatch',
        account: { publicId: walletPublicId, kind: 'wallet_cash' },
        stored: 3530,
        computed: 3430,
      })
    } finally {
      await db.from('ledger_accounts').where('id', walletId).update({ balance: 3430 })
    }
    t.is((await verify()).code, 0)
  }
)

test.serial(
  'postings cannot be corrupted; one rewritten behind the triggers breaks the chain',
  async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const posting = await db
      .from('ledger_postings')
      .where('account_id', walletId)
      .orderBy('id')
      .offset(1)
      .firstOrFail()
    await t.throwsAsync(
      db.from('ledger_postings').where('id', posting.id).update({ balance_after: 1 }),
      { any: true, message: /append-only/ }
    )
    t.is((await verify()).code, 0)

    // Someone with database superuser rights drops the trigger first: the
    // ledger itself cannot stop that, but verify names the posting.
    const postgres = quad.dialect === 'pg'
    await db.rawQuery(
      postgres
        ? 'ALTER TABLE ledger_postings DISABLE TRIGGER ledger_postings_append_only'
        : 'DROP TRIGGER ledger_postings_no_update'
    )
    await db.from('ledger_postings').where('id', posting.id).update({ balance_after: 1 })
    const result = await verify()
    t.is(result.code, 1, result.output)
    t.regex(result.output, new RegExp(`posting ${posting.id} has balance_after 0\\.01`))
    t.true(result.output.includes(walletPublicId))
  }
)
