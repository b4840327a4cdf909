/**
 * Campus-code payments through AuthorizeCodePayment, the action the terminal
 * gateway calls: payments per second with durable commits (SQLite in WAL
 * with synchronous=FULL) with 1, 8 and 64 requests in flight (tills
 * presenting codes at once; concurrent requests share a group commit,
 * docs/adr/0013), and — on SQLite — a bare better-sqlite3 loop doing the
 * same writes in the same database file for the ratio: per payment the
 * seen-code insert and the transfer, its two postings, both balances and
 * the payment row, once with one payment per durable commit and once with
 * 64 per commit.
 *
 *   npm run bench code_payment [-- --payments 4000 --payers 200 --concurrency 8 --db sqlite|pg]
 *
 * Codes are made before the clock starts (one fresh code per payment);
 * every payer holds more than it will spend, in cash.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { option, ranOnEachDatabase } from './support/cli.js'

function rate(count: number, startedMs: number) {
  return count / ((performance.now() - startedMs) / 1000)
}

export default async function codePaymentBench(args: string[]) {
  if (await ranOnEachDatabase('code_payment', args)) return
  const payments = Number(option(args, 'payments', '4000'))
  const payerCount = Number(option(args, 'payers', '200'))
  const concurrency = Number(option(args, 'concurrency', '8'))

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp({ http: false })
  try {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { givenSchool } = await import('../tests/helpers/fixtures.js')
    const { givenShop, givenPayer } = await import('../tests/merchants/given.js')
    const { codeOf, nowSeconds } = await import('../tests/cards/code_fixtures.js')
    const { AuthorizeCodePayment } = await import('#ledger/actions/authorize_code_payment')
    const { savePaymentSettings } = await import('#merchants/services/payment_settings')
    const { bookState } = await import('../tests/ledger/given.js')
    await givenSchool()
    // Limits out of the way: the bench measures the booking, not the refusals.
    await savePaymentSettings({ codeMaxPerDay: 100_000_000, codeMaxPerPayment: 100_000 })

    const shops = await Promise.all(Array.from({ length: 8 }, () => givenShop()))
    const payers: Awaited<ReturnType<typeof givenPayer>>[] = []
    for (let index = 0; index < payerCount; index++) payers.push(await givenPayer(1_000_000))

    const makeCodes = async (count: number) => {
      const now = nowSeconds()
      const codes: { text: string; shop: string; key: string }[] = []
      for (let index = 0; index < count; index++) {
        const payer = payers[index % payers.length]
        codes.push({
          text: await codeOf(payer.device, now),
          shop: shops[index % shops.length].shop.publicId,
          key: `T-BENCH:${process.pid}:${Date.now()}:${index}`,
        })
      }
      return codes
    }
    const authorize = new AuthorizeCodePayment()
    const actor = { type: 'terminal' as const, id: 'T-BENCH', name: 'bench till' }
    const run = async (codes: Awaited<ReturnType<typeof makeCodes>>, parallel: number) => {
      let next = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: parallel }, async () => {
          while (next < codes.length) {
            const code = codes[next++]
            const result = await authorize.handle({
              codeText: code.text,
              shopPublicId: code.shop,
              amount: 1 + (next % 1500),
              idempotencyKey: code.key,
              actor,
              verifier: 'T-BENCH',
            })
            if (!result.ok) throw new Error(`payment refused: ${result.error}`)
          }
        })
      )
      return rate(codes.length, started)
    }

    // Warm-up: plans, prepared statements, the key ring's credential cache.
    await run(await makeCodes(Math.min(200, payments)), 1)
    const { codePaymentCommits } = await import('#ledger/services/code_payment_booking')
    const rows: [string, number, string?][] = []
    const rates: number[] = []
    for (const parallel of [1, concurrency, 64]) {
      const before = { ...codePaymentCommits.stats }
      const measured = await run(await makeCodes(payments), parallel)
      const transactions = codePaymentCommits.stats.transactions - before.transactions
      const units = codePaymentCommits.stats.units - before.units
      rates.push(measured)
      rows.push([
        `AuthorizeCodePayment, ${parallel} in flight (${(units / transactions).toFixed(1)} per commit)`,
        measured,
      ])
    }
    const best = Math.max(...rates)

    if (quad.dialect === 'sqlite') {
      const bare = await bareLoop(quad.storage, payments, 1)
      rows.push(['bare better-sqlite3, same writes, 1 payment per durable commit', bare])
      rows.push(['ratio best action / bare (1 per commit)', (best / bare) * 100, '%'])
      const grouped = await bareLoop(quad.storage, payments, 64)
      rows.push(['bare better-sqlite3, same writes, 64 payments per durable commit', grouped])
      rows.push(['ratio best action / bare (64 per commit)', (best / grouped) * 100, '%'])
    }

    const state = await bookState()
    const balanced =
      state.mismatched.length === 0 && state.unbalanced.length === 0 && state.postingsTotal === 0
    const [{ total }] = await db.from('merchant_payments').count('* as total')

    console.log(
      `\ncode payments, ${quad.dialect} (${payments} payments per run, ${payerCount} payers, ${shops.length} shops, Node ${process.version})`
    )
    const width = Math.max(...rows.map(([name]) => name.length))
    for (const [name, value, unit] of rows)
      console.log(`  ${name.padEnd(width)}  ${value.toFixed(0).padStart(8)} ${unit ?? '/s'}`)
    console.log(`  payments booked: ${total}; books balanced: ${balanced ? 'yes' : 'NO'}`)
    if (quad.dialect === 'sqlite')
      console.log(`  target 2000 payments/s on SQLite: ${best >= 2000 ? 'met' : 'NOT met'}`)
  } finally {
    await quad.close()
  }
}

/**
 * The same writes as a payment, by hand on a second better-sqlite3
 * connection to the same file: no verification, no reads beyond the two
 * balances, prepared statements. What the disk allows this machine.
 */
async function bareLoop(storage: string, payments: number, perCommit: number): Promise<number> {
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => any
  const file = process.env.SQLITE_FILE ?? join(storage, 'db', 'quad.sqlite3')
  if (!existsSync(file)) throw new Error(`no SQLite file at ${file}`)
  const sqlite = new Database(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma('busy_timeout = 5000')
  // As config/database.ts sets them for Quad's own connections.
  sqlite.pragma('cache_size = -65536')
  sqlite.pragma('mmap_size = 268435456')
  try {
    const payment = sqlite
      .prepare(
        `SELECT p.transfer_id, p.merchant_id, p.shop_id, p.person_id, p.card_id
         FROM merchant_payments p ORDER BY p.id LIMIT 1`
      )
      .get() as any
    const wallets = (
      sqlite
        .prepare(`SELECT id FROM ledger_accounts WHERE kind = 'wallet_cash' AND balance > 100000`)
        .all() as { id: number }[]
    ).map((account) => account.id)
    const merchants = (
      sqlite.prepare(`SELECT id FROM ledger_accounts WHERE kind = 'merchant'`).all() as {
        id: number
      }[]
    ).map((account) => account.id)
    const seen = sqlite.prepare(
      `INSERT INTO card_seen_codes (code_id, card_id, card_no, first_seen_at, first_seen_by, expires_at)
       VALUES (?, ?, 'BARE', ?, 'T-BARE', ?) ON CONFLICT (code_id) DO NOTHING`
    )
    const balance = sqlite.prepare('SELECT balance, version FROM ledger_accounts WHERE id = ?')
    const transfer = sqlite.prepare(
      `INSERT INTO ledger_transfers (public_id, kind, idempotency_key, request_hash, amount,
         metadata, actor_type, actor_id, actor_name, booked_at)
       VALUES (?, 'payment', ?, ?, ?, NULL, 'terminal', 'T-BARE', 'bare', ?)`
    )
    const posting = sqlite.prepare(
      `INSERT INTO ledger_postings (transfer_id, account_id, amount, balance_after, booked_at)
       VALUES (?, ?, ?, ?, ?)`
    )
    const update = sqlite.prepare(
      'UPDATE ledger_accounts SET balance = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?'
    )
    const row = sqlite.prepare(
      `INSERT INTO merchant_payments (public_id, transfer_id, merchant_id, shop_id, person_id,
         card_id, channel, amount, refunded, paid_at)
       VALUES (?, ?, ?, ?, ?, ?, 'campus_code', ?, 0, ?)`
    )
    const pay = (index: number, now: string) => {
      seen.run(`bare-${perCommit}-${process.pid}-${index}`, payment.card_id, now, now)
      const amount = 1 + (index % 1500)
      const wallet = wallets[index % wallets.length]
      const merchant = merchants[index % merchants.length]
      const w = balance.get(wallet) as any
      const m = balance.get(merchant) as any
      const id = transfer.run(
        `BARE${perCommit}${process.pid}${String(index).padStart(12, '0')}`.slice(0, 26),
        `bare:${perCommit}:${process.pid}:${index}`,
        'x'.repeat(64),
        amount,
        now
      ).lastInsertRowid
      posting.run(id, wallet, -amount, w.balance - amount, now)
      posting.run(id, merchant, amount, m.balance + amount, now)
      update.run(w.balance - amount, now, wallet, w.version)
      update.run(m.balance + amount, now, merchant, m.version)
      row.run(
        `BAREP${perCommit}${process.pid}${String(index).padStart(12, '0')}`.slice(0, 26),
        id,
        payment.merchant_id,
        payment.shop_id,
        payment.person_id,
        payment.card_id,
        amount,
        now
      )
    }
    const book = sqlite.transaction((from: number, to: number, now: string) => {
      for (let index = from; index < to; index++) pay(index, now)
    })
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19)
    const started = performance.now()
    for (let index = 0; index < payments; index += perCommit)
      book.immediate(index, Math.min(payments, index + perCommit), now)
    return rate(payments, started)
  } finally {
    sqlite.close()
  }
}
