/**
 * Ledger throughput on SQLite and on PostgreSQL, through PostTransfer, the
 * one write path: transfers per second booked one after another (a single
 * gateway worker), and booked by several requests at once over many wallets
 * (terminals all over campus) and over one wallet (the worst case: every
 * request waits for the same lock). Then `ledger:verify`'s recomputation of
 * the whole book.
 *
 *   npm run bench ledger [-- --wallets 2000 --transfers 5000 --concurrency 8 --db sqlite|pg]
 *
 * On SQLite the concurrent runs share the one connection and are booked in
 * turn; on PostgreSQL they use up to --concurrency pooled connections.
 */
import { option, ranOnEachDatabase } from './support/cli.js'

export default async function ledgerBench(args: string[]) {
  if (await ranOnEachDatabase('ledger', args)) return
  const walletCount = Number(option(args, 'wallets', '2000'))
  const transfers = Number(option(args, 'transfers', '5000'))
  const concurrency = Number(option(args, 'concurrency', '8'))

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp({ http: false })
  try {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { newPublicId } = await import('#core/services/ids')
    const { insertOrgUnit } = await import('#identity/services/org_tree')
    const { PostTransfer } = await import('#ledger/actions/post_transfer')
    const { walletFor, merchantAccount, systemAccount } = await import('#ledger/services/accounts')
    const { verifyLedger } = await import('#ledger/services/ledger_verify')
    const post = new PostTransfer()
    const terminal = { type: 'terminal' as const, id: 'T-BENCH', name: 'bench terminal' }
    const cashier = { type: 'user' as const, id: 'U-BENCH', name: 'bench cashier' }

    // People in bulk, then their wallets.
    const unit = await db.transaction((trx) =>
      insertOrgUnit(trx, null, { kind: 'school', code: 'BENCH', name: '基准学校' })
    )
    const { created_at: now } = await db.from('org_units').select('created_at').firstOrFail()
    const rows = Array.from({ length: walletCount }, (_, index) => ({
      public_id: newPublicId(),
      person_no: `B${String(index).padStart(7, '0')}`,
      name: `基准${index}`,
      name_pinyin_initials: 'jz',
      gender: 'unknown',
      identity_type: 'undergraduate',
      status: 'active',
      org_unit_id: unit.id,
      created_at: now,
      updated_at: now,
    }))
    await db.transaction(async (trx) => {
      for (let start = 0; start < rows.length; start += 400)
        await trx.table('people').multiInsert(rows.slice(start, start + 400))
    })
    const people = await db.from('people').where('org_unit_id', unit.id).select('id')
    type Account = Awaited<ReturnType<typeof walletFor>>
    const wallets: Account[] = []
    for (const person of people) wallets.push(await walletFor(Number(person.id), 'cash'))
    const merchants: Account[] = []
    for (let index = 0; index < 20; index++) merchants.push(await merchantAccount(index + 1))
    const counter = await systemAccount('counter_clearing')

    let sequence = 0
    const key = () => `bench:${++sequence}`
    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]
    const payment = (wallet = pick(wallets)) => {
      const amount = 1 + Math.floor(Math.random() * 20)
      return post.handle({
        idempotencyKey: key(),
        kind: 'payment',
        postings: [
          { account: wallet, amount: -amount },
          { account: pick(merchants), amount },
        ],
        actor: terminal,
      })
    }

    const results: [string, number, number][] = []
    /** Runs `count` bookings, `parallel` at a time; returns transfers per second. */
    async function measure(
      name: string,
      count: number,
      parallel: number,
      book: () => Promise<any>
    ) {
      let next = 0
      let refused = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: parallel }, async () => {
          while (next < count) {
            next += 1
            const result = await book()
            if (!result.ok) refused += 1
          }
        })
      )
      const seconds = (performance.now() - started) / 1000
      results.push([name, count / seconds, refused])
    }

    // Top-ups first: they fund the payments, one per wallet, audited as a cashier's.
    let toFund = 0
    await measure('top-ups, one at a time, audited', wallets.length, 1, () =>
      post.handle({
        idempotencyKey: key(),
        kind: 'top_up',
        postings: [
          { account: counter, amount: -1_000_000 },
          { account: wallets[toFund++], amount: 1_000_000 },
        ],
        actor: cashier,
      })
    )
    await measure('payments, one at a time', transfers, 1, () => payment())
    await measure(`payments, ${concurrency} at once, many wallets`, transfers, concurrency, () =>
      payment()
    )
    const hot = wallets[0]
    await measure(
      `payments, ${concurrency} at once, one wallet`,
      Math.min(transfers, 2000),
      concurrency,
      () => payment(hot)
    )

    const started = performance.now()
    const verified = await verifyLedger()
    const verifySeconds = (performance.now() - started) / 1000

    console.log(
      `\nledger on ${quad.dialect}: ${wallets.length} wallets, ${merchants.length} merchants, ` +
        `${concurrency} concurrent requests`
    )
    const width = Math.max(...results.map(([name]) => name.length))
    console.log(`  ${'run'.padEnd(width)}  transfers/s  refused`)
    for (const [name, rate, refused] of results)
      console.log(
        `  ${name.padEnd(width)}  ${rate.toFixed(0).padStart(11)}  ${String(refused).padStart(7)}`
      )
    console.log(
      `  ledger:verify: ${verified.ok ? 'OK' : `${verified.problemCount} PROBLEMS`}, ` +
        `${verified.transfers} transfers and ${verified.postings} postings in ${verifySeconds.toFixed(2)} s ` +
        `(${Math.round(verified.postings / verifySeconds)} postings/s)`
    )
    console.log(`  memory: ${Math.round(process.memoryUsage().rss / 1e6)} MB RSS`)
    if (!verified.ok) process.exitCode = 1
  } finally {
    await quad.close()
  }
}
