/**
 * Money over the terminal gateway (real mutual TLS, the reference terminal):
 * online code payments, dual-offline payments uploaded later and booked once,
 * an offline overspend paid by the advance fund and settled by the next
 * top-up, a code replayed at two terminals, end-of-day totals, and the
 * gateway killed (SIGKILL) under load: every payment the terminal saw
 * acknowledged is in the ledger, none twice after the terminal retries.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { givenTerminal, startGateway, type TestGateway } from './helpers.js'
import type { SimulatedTerminal } from '#terminals/simulator/terminal'
import type { HolderDevice } from '#tests/cards/code_fixtures'

let quad: TestApp
let gateway: TestGateway
let db: typeof import('@adonisjs/lucid/services/db').default
let shop: { publicId: string; id: number }
const opened: SimulatedTerminal[] = []
let holders = 0

test.before(async () => {
  quad = await bootTestApp({ http: false })
  db = (await import('@adonisjs/lucid/services/db')).default
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const { givenShop } = await import('#tests/ledger/offline_given')
  shop = await givenShop()
  gateway = await startGateway()
})

test.after.always(async () => {
  for (const terminal of opened) terminal.close()
  await gateway?.close()
  await quad?.close()
})

/** An enrolled, synced till of the test shop, allowed 20 offline payments of up to ¥50 a day. */
async function till(baseUrl = gateway.baseUrl, name = 'Canteen till') {
  const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
  const { publicId, code: enrollmentCode } = await givenTerminal('pos', name)
  await db.from('terminals').where('public_id', publicId).update({
    shop_id: shop.id,
    offline_count_per_day: 20,
    offline_amount_per_day: 5000,
    offline_single_amount: 2000,
  })
  const terminal = new SimulatedTerminal({ baseUrl, caPem: gateway.caPem })
  opened.push(terminal)
  await terminal.enroll(enrollmentCode)
  await terminal.fetchConfig()
  await terminal.sync()
  return { publicId, terminal }
}

async function givenHolder(cash: number) {
  const { givenPeople } = await import('#tests/cards/fixtures')
  const { givenCard, givenHolderDevice } = await import('#tests/cards/code_fixtures')
  holders += 1
  const no = `GWP${process.pid}${String(holders).padStart(3, '0')}`
  const person = (await givenPeople([{ no, type: 'teacher' }])).get(no)!
  const card = await givenCard(person.id)
  const { ActivateCard } = await import('#cards/actions/activate_card')
  const activated = await new ActivateCard().handle({ card: { id: card.id } }, { type: 'system' })
  if (!activated.ok) throw new Error(activated.error)
  const device = await givenHolderDevice(card.cardNo, Math.floor(Date.now() / 1000) - 3600)
  if (cash > 0) await topUp(person.publicId, cash)
  return { person, card, device }
}

async function topUp(personPublicId: string, amount: number) {
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const result = await new TopUpAtCounter().handle({
    personPublicId,
    amount,
    idempotencyKey: `gw-topup:${personPublicId}:${Date.now()}:${Math.random()}`,
    actor: { type: 'user', id: 'U-CASH', name: 'cashier' },
  })
  if (!result.ok) throw new Error(result.error)
  return result.value
}

async function code(device: HolderDevice) {
  const { codeOf } = await import('#tests/cards/code_fixtures')
  return codeOf(device)
}

async function cashOf(personId: number) {
  const { walletFor } = await import('#ledger/services/accounts')
  return (await walletFor(personId, 'cash')).balance
}

async function assertBalanced(t: any) {
  const { bookState } = await import('#tests/ledger/given')
  const { arrearsInvariant } = await import('#ledger/services/arrears')
  const state = await bookState()
  t.deepEqual(state.mismatched, [])
  t.deepEqual(state.unbalanced, [])
  t.deepEqual(state.overdrawn, [])
  t.is(state.postingsTotal, 0)
  const fund = await arrearsInvariant()
  t.is(fund.advanced, fund.holders)
  t.is(fund.advanced, fund.control)
}

test.serial(
  'an online code payment is approved once; a retry answers the first result',
  async (t) => {
    const { terminal, publicId } = await till()
    const { person, device } = await givenHolder(1000)
    const text = await code(device)
    const first = await terminal.payOnline(text, 350, 1)
    t.is(first.status, 200, JSON.stringify(first.body))
    t.like(first.body, { status: 'approved', sequence: 1, amount: 350, balance_after: 650 })
    const again = await terminal.payOnline(text, 350, 1)
    t.is(again.status, 200)
    t.is(again.body.transfer, first.body.transfer)
    t.true(again.body.replayed)
    t.is(await cashOf(person.id), 650)
    const keys = await db.from('ledger_transfers').where('idempotency_key', `t:${publicId}:1`)
    t.is(keys.length, 1)

    // The same code under another sequence is a replay; too much is refused with its code.
    const replayed = await terminal.payOnline(text, 350, 2)
    t.is(replayed.status, 402)
    t.is(replayed.body.error.code, 'code_replayed')
    const broke = await terminal.payOnline(await code(device), 5000, 3)
    t.is(broke.status, 402)
    t.is(broke.body.error.code, 'insufficient_funds')
    const bad = await terminal.client.send('POST', '/t/v1/payments', { code: 'x', amount: 1.5 })
    t.is(bad.status, 422)
    t.is(await cashOf(person.id), 650)
    await assertBalanced(t)
  }
)

test.serial(
  'phone and terminal offline: codes verified on the terminal, uploaded later, booked once; an overspend becomes arrears the next top-up settles',
  async (t) => {
    const { arrearsOwed } = await import('#ledger/services/arrears')
    const { terminal, publicId } = await till()
    const { person, device } = await givenHolder(1000)
    for (const amount of [300, 400, 500]) {
      const outcome = await terminal.payOffline(await code(device), amount)
      t.true(outcome.ok)
    }
    const pending = terminal.records.pending().map((record) => {
      const { uploaded, result, ...data } = record
      void uploaded
      void result
      return data
    })
    const uploaded = await terminal.uploadOffline()
    t.is(uploaded.sent, 3)
    t.deepEqual(
      uploaded.results.map((result: any) => [result.status, result.covered, result.advanced]),
      [
        ['booked', 300, 0],
        ['booked', 400, 0],
        ['booked', 300, 200],
      ]
    )
    t.is(await cashOf(person.id), 0)
    t.is(await arrearsOwed(person.id), 200)
    const row = await db.from('terminals').where('public_id', publicId).first()
    t.is(Number(row.last_uploaded_sequence), 3)

    // The same batch again (a lost answer): nothing more is booked.
    const transfers = await db.from('ledger_transfers').count('* as total').first()
    const again = await terminal.client.call('POST', '/t/v1/offline', { records: pending })
    t.deepEqual(
      again.results.map((result: any) => result.status),
      ['duplicate', 'duplicate', 'duplicate']
    )
    const after = await db.from('ledger_transfers').count('* as total').first()
    t.is(Number(after?.total), Number(transfers?.total))
    await assertBalanced(t)

    const settled = await topUp(person.publicId, 1000)
    t.is(settled.arrearsSettled, 200)
    t.is(await arrearsOwed(person.id), 0)
    t.is(await cashOf(person.id), 800)
    await assertBalanced(t)

    // End of day: the terminal's totals against the ledger's.
    const { DateTime } = await import('luxon')
    const { schoolZone } = await import('#cards/services/school_zone')
    const today = DateTime.now()
      .setZone(await schoolZone())
      .toISODate()
    const close = await terminal.client.call('POST', '/t/v1/batches/close', {
      business_date: today,
      online: { count: 0, amount: 0 },
      offline: { count: 3, amount: 1200 },
    })
    t.true(close.matched)
    const short = await terminal.client.call('POST', '/t/v1/batches/close', {
      business_date: today,
      online: { count: 1, amount: 100 },
      offline: { count: 3, amount: 1200 },
    })
    t.false(short.matched)
    t.deepEqual(short.differences.online, { count: -1, amount: -100 })
  }
)

test.serial('a code replayed at two terminals is booked once and flagged', async (t) => {
  const one = await till(gateway.baseUrl, 'Till one')
  const two = await till(gateway.baseUrl, 'Till two')
  const { person, card, device } = await givenHolder(1000)
  const text = await code(device)
  // Each till only knows its own replay cache: both accept the copy offline.
  t.true((await one.terminal.payOffline(text, 200)).ok)
  t.true((await two.terminal.payOffline(text, 200)).ok)
  const first = await one.terminal.uploadOffline()
  const second = await two.terminal.uploadOffline()
  t.like(first.results[0], { status: 'booked' })
  t.like(second.results[0], { status: 'refused', refusal: 'code_replayed', flag: 'replayed_code' })
  t.is(await cashOf(person.id), 800)
  const replays = await db.from('card_code_replays').where('card_id', card.id)
  t.deepEqual(
    replays.map((replay) => replay.verifier),
    [two.publicId]
  )
  await assertBalanced(t)
})

/** `node ace terminals:serve` in a child process with this app's environment. */
async function serveGateway() {
  const { aceEnvironment } = await import('#tests/helpers/ace')
  const { serveGatewayProcess } = await import('./helpers.js')
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries({ ...process.env, ...aceEnvironment(quad) }))
    if (value !== undefined) env[key] = value
  return serveGatewayProcess(env, 60_000)
}

test.serial(
  'the gateway killed under load: every acknowledged payment is in the ledger, none twice after retries',
  async (t) => {
    t.timeout(300_000)
    const began = Date.now()
    const mark = (what: string) => t.log(`${what}: ${Date.now() - began} ms`)
    const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
    const first = await serveGateway()
    mark('gateway started')
    // Holders first: their credentials' issuer key is what the till syncs.
    const people = []
    for (let index = 0; index < 8; index++) people.push(await givenHolder(100_000))
    const { terminal, publicId } = await till(first.url, 'Busy till')

    // Offline records waiting for upload, and a stream of online payments.
    for (const [index, holder] of people.entries()) {
      const outcome = await terminal.payOffline(await code(holder.device), 100 + index)
      t.true(outcome.ok, outcome.ok ? '' : outcome.error)
    }
    mark('holders ready')
    const TOTAL = 160
    const requests: { sequence: number; code: string; amount: number }[] = []
    for (let index = 0; index < TOTAL; index++) {
      const holder = people[index % people.length]
      requests.push({ sequence: 1000 + index, code: await code(holder.device), amount: 10 + index })
    }
    const acknowledged = new Map<number, string>()
    let killed = false
    let next = 0
    const worker = async () => {
      while (next < requests.length) {
        const request = requests[next++]
        if (next === 50 && !killed) {
          killed = true
          first.child.kill('SIGKILL')
        }
        try {
          const answer = await terminal.payOnline(request.code, request.amount, request.sequence)
          if (answer.status === 200) acknowledged.set(request.sequence, answer.body.transfer)
        } catch {
          // No answer: the terminal does not know, and will retry.
        }
      }
    }
    const upload = terminal.uploadOffline().catch(() => null)
    await Promise.all([worker(), worker(), worker(), worker(), worker(), worker(), upload])
    t.true(killed, 'killed')
    t.true(acknowledged.size > 0, 'some acknowledged')
    t.true(acknowledged.size < TOTAL, 'some not acknowledged')
    t.log(`acknowledged before and around the kill: ${acknowledged.size} of ${TOTAL}`)

    // The gateway comes back; the terminal retries everything it has no answer for (and,
    // to be thorough, what it has).
    mark('load done')
    const second = await serveGateway()
    mark('gateway restarted')
    try {
      const retrying = new SimulatedTerminal({ baseUrl: second.url, caPem: gateway.caPem })
      retrying.state = terminal.state
      retrying.records = terminal.records
      opened.push(retrying)
      const { GatewayClient } = await import('#terminals/simulator/client')
      const client = new GatewayClient({
        baseUrl: second.url,
        caPem: terminal.state.caPem ?? gateway.caPem,
        identity: terminal.state.identity ?? undefined,
      })
      for (const request of requests) {
        const answer = await client.send('POST', '/t/v1/payments', {
          code: request.code,
          amount: request.amount,
          sequence: request.sequence,
        })
        if (acknowledged.has(request.sequence)) {
          t.is(answer.status, 200, `sequence ${request.sequence}`)
          t.is(answer.body.transfer, acknowledged.get(request.sequence))
        } else {
          // Booked before the kill (answer lost), booked now, or refused because the
          // code was claimed just before the kill: never booked twice.
          t.true([200, 402].includes(answer.status))
        }
      }
      const pending = terminal.records.pending().map((record) => {
        const { uploaded, result, ...data } = record
        void uploaded
        void result
        return data
      })
      if (pending.length > 0) {
        const answer = await client.call('POST', '/t/v1/offline', { records: pending })
        t.true(
          answer.results.every((result: any) => ['booked', 'duplicate'].includes(result.status))
        )
      }
      client.close()
    } finally {
      second.child.kill('SIGKILL')
    }
    mark('retries done')

    const rows = await db
      .from('ledger_transfers')
      .where('idempotency_key', '>=', `t:${publicId}:`)
      .where('idempotency_key', '<', `t:${publicId};`)
      .select('idempotency_key', 'public_id')
    const booked = new Map(rows.map((row) => [row.idempotency_key, row.public_id]))
    t.is(rows.length, booked.size)
    for (const [sequence, transfer] of acknowledged)
      t.is(booked.get(`t:${publicId}:${sequence}`), transfer)
    const offline = await db
      .from('offline_payment_records')
      .where('terminal_id', publicId)
      .where('status', 'booked')
    t.is(offline.length, people.length)
    // Every booked payment once in the merchant's sales.
    const sales = await db
      .from('merchant_payments')
      .whereIn(
        'transfer_id',
        db
          .from('ledger_transfers')
          .where('idempotency_key', '>=', `t:${publicId}:`)
          .where('idempotency_key', '<', `t:${publicId};`)
          .select('id')
      )
      .count('* as total')
      .first()
    t.is(Number(sales?.total), rows.length)
    await assertBalanced(t)
  }
)
