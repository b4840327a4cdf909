/**
 * Dual-offline payments: a terminal verified campus codes with neither the
 * phone nor itself online, and uploads its records later. Each record is
 * booked once (terminal id + sequence), codes are verified again at upload,
 * replays and forgeries are refused and flagged, and an overspend is paid
 * by the advance fund and owed as arrears until the next top-up settles it.
 * The books stay balanced throughout.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { AuditActor } from '#core/services/audit'
import type { HolderDevice } from '#tests/cards/code_fixtures'

let quad: TestApp
let db: typeof import('@adonisjs/lucid/services/db').default
let shopId: string
let otherShopId: string
let people = 0

const CASHIER: AuditActor = { type: 'user', id: 'U-CASH', name: 'cashier' }

test.before(async () => {
  quad = await bootTestApp({ http: false })
  db = (await import('@adonisjs/lucid/services/db')).default
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const { givenShop } = await import('./offline_given.js')
  shopId = (await givenShop()).publicId
  otherShopId = (await givenShop()).publicId
})

test.after.always(async () => {
  await quad?.close()
})

/** A holder with a card, a device and (optionally) cash topped up at the counter. */
async function givenHolder(cash = 0) {
  const { givenPeople } = await import('#tests/cards/fixtures')
  const { givenCard, givenHolderDevice } = await import('#tests/cards/code_fixtures')
  people += 1
  const no = `OFF${String(people).padStart(3, '0')}`
  const person = (await givenPeople([{ no, type: 'teacher' }])).get(no)!
  const card = await givenCard(person.id)
  const device = await givenHolderDevice(card.cardNo, Math.floor(Date.now() / 1000) - 3600)
  if (cash > 0) await topUp(person.publicId, cash)
  return { person, card, device }
}

async function topUp(personPublicId: string, amount: number, key?: string) {
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const { newKey } = await import('./given.js')
  const result = await new TopUpAtCounter().handle({
    personPublicId,
    amount,
    idempotencyKey: key ?? newKey('counter'),
    actor: CASHIER,
  })
  if (!result.ok) throw new Error(result.error)
  return result.value
}

function offlineRecord(device: HolderDevice, sequence: number, amount: number, ago = 600) {
  return import('./offline_given.js').then(({ offlineRecordOf }) =>
    offlineRecordOf(device, shopId, sequence, amount, ago)
  )
}

async function upload(terminalId: string, records: any[], terminalShop?: string) {
  const { BookOfflinePayments } = await import('#ledger/actions/book_offline_payments')
  return new BookOfflinePayments().handle({
    terminalId,
    terminalShop,
    records,
    actor: { type: 'terminal', id: terminalId, name: terminalId },
  })
}

async function cashOf(personId: number) {
  const { walletFor } = await import('#ledger/services/accounts')
  const wallet = await walletFor(personId, 'cash')
  return wallet.balance
}

async function flaggedCount() {
  const row = await db
    .from('audit_entries')
    .where('action', 'ledger.offline_record_flagged')
    .count('* as total')
    .first()
  return Number(row?.total ?? 0)
}

async function assertBalanced(t: any) {
  const { assertBooksBalance } = await import('./given.js')
  const { arrearsInvariant } = await import('#ledger/services/arrears')
  await assertBooksBalance(t)
  const fund = await arrearsInvariant()
  t.is(fund.advanced, fund.holders)
  t.is(fund.advanced, fund.control)
}

test.serial(
  'codes verified offline are booked once at upload; the same batch twice books nothing more',
  async (t) => {
    const { transferCount } = await import('./given.js')
    const { person, device } = await givenHolder(2000)
    const records = [
      await offlineRecord(device, 1, 300, 900),
      await offlineRecord(device, 2, 450, 800),
      await offlineRecord(device, 3, 250, 700),
    ]
    const before = await transferCount()
    const first = await upload('T-POS-OFF1', records, shopId)
    t.is(first.booked, 3)
    t.deepEqual(
      first.results.map((result) => [result.sequence, result.status]),
      [
        [1, 'booked'],
        [2, 'booked'],
        [3, 'booked'],
      ]
    )
    t.is(await cashOf(person.id), 1000)
    t.is((await transferCount()) - before, 3)

    const again = await upload('T-POS-OFF1', records, shopId)
    t.is(again.booked, 0)
    t.is(again.duplicates, 3)
    for (const [index, result] of again.results.entries()) {
      t.like(result, { status: 'duplicate', first: 'booked' })
      t.is((result as any).transfer, (first.results[index] as any).transfer)
    }
    t.is(await cashOf(person.id), 1000)
    t.is((await transferCount()) - before, 3)

    // The same sequence with other content is not the same record.
    const changed = await upload('T-POS-OFF1', [{ ...records[0], amount: 999 }])
    t.like(changed.results[0], { status: 'refused', refusal: 'sequence_conflict' })
    // The sales show at the shop like any campus-code payment.
    const sales = await db.from('merchant_payments').where('person_id', person.id)
    t.deepEqual(sales.map((row) => Number(row.amount)).sort(), [250, 300, 450])
    await assertBalanced(t)
  }
)

test.serial(
  'an offline overspend is paid by the advance fund, owed as arrears, and settled by the next top-up',
  async (t) => {
    const { arrearsOwed, arrearsInvariant } = await import('#ledger/services/arrears')
    const { person, device } = await givenHolder(500)
    const result = await upload('T-POS-OFF2', [
      await offlineRecord(device, 1, 300, 900),
      await offlineRecord(device, 2, 400, 800),
      await offlineRecord(device, 3, 150, 700),
    ])
    t.like(result.results[0], { status: 'booked', covered: 300, advanced: 0 })
    t.like(result.results[1], { status: 'booked', covered: 200, advanced: 200 })
    t.like(result.results[2], { status: 'booked', covered: 0, advanced: 150 })
    t.is(await cashOf(person.id), 0)
    t.is(await arrearsOwed(person.id), 350)
    const fund = await arrearsInvariant()
    t.true(fund.advanced >= 350)
    await assertBalanced(t)

    // A small top-up settles what it can; the next one the rest.
    const key = `counter:${person.publicId}:1`
    const small = await topUp(person.publicId, 100, key)
    t.is(small.arrearsSettled, 100)
    t.is(await arrearsOwed(person.id), 250)
    t.is(await cashOf(person.id), 0)
    // A retried top-up books nothing more and reports the settlement it made.
    const retried = await topUp(person.publicId, 100, key)
    t.true(retried.replayed)
    t.is(retried.arrearsSettlement?.id, small.arrearsSettlement?.id)
    t.is(await arrearsOwed(person.id), 250)

    const big = await topUp(person.publicId, 1000)
    t.is(big.arrearsSettled, 250)
    t.is(await arrearsOwed(person.id), 0)
    t.is(await cashOf(person.id), 750)
    // Nothing left to settle: the next top-up is a plain top-up.
    const plain = await topUp(person.publicId, 50)
    t.is(plain.arrearsSettlement ?? null, null)
    t.is(await cashOf(person.id), 800)
    await assertBalanced(t)
  }
)

test.serial(
  'a code used at two terminals, or online first, is booked once; the replay is refused and flagged',
  async (t) => {
    const { person, card, device } = await givenHolder(1000)
    const record = await offlineRecord(device, 7, 120, 600)
    const first = await upload('T-POS-OFF3', [record])
    t.like(first.results[0], { status: 'booked' })
    const second = await upload('T-POS-OFF4', [{ ...record, sequence: 1 }])
    t.like(second.results[0], {
      status: 'refused',
      refusal: 'code_replayed',
      flag: 'replayed_code',
    })
    t.is(await cashOf(person.id), 880)
    const replays = await db.from('card_code_replays').where('card_id', card.id)
    t.is(replays.length, 1)
    t.is(replays[0].verifier, 'T-POS-OFF4')

    // Accepted online first (the server's verification), then uploaded as an offline record.
    const { codeOf } = await import('#tests/cards/code_fixtures')
    const { verifyCampusCode } = await import('#cards/services/code_verification')
    const at = Math.floor(Date.now() / 1000) - 20
    const text = await codeOf(device, at)
    t.true((await verifyCampusCode(text, { verifier: 'T-GATE-9' })).result.ok)
    const late = await upload('T-POS-OFF3', [
      { sequence: 8, code: text, cardNo: card.cardNo, amount: 90, recordedAt: at, shop: shopId },
    ])
    t.like(late.results[0], { status: 'refused', refusal: 'code_replayed' })
    t.is(await cashOf(person.id), 880)
    await assertBalanced(t)
  }
)

test.serial(
  'a terminal that reports what its code does not say is refused and flagged',
  async (t) => {
    const { forged } = await import('#tests/cards/code_fixtures')
    const { person, device } = await givenHolder(1000)
    const { card: otherCard } = await givenHolder()
    const good = await offlineRecord(device, 1, 100, 600)
    const flaggedBefore = await flaggedCount()
    const result = await upload(
      'T-POS-OFF5',
      [
        { ...good, sequence: 1, code: await forged(good.code) },
        { ...(await offlineRecord(device, 2, 100, 500)), cardNo: otherCard.cardNo },
        // Recorded hours after the code was made: the terminal's clock or its story is wrong.
        { ...(await offlineRecord(device, 3, 100, 4 * 3600)), recordedAt: good.recordedAt },
        { ...(await offlineRecord(device, 4, 100, 400)), shop: otherShopId },
        { ...(await offlineRecord(device, 5, 100, 300)), recordedAt: good.recordedAt + 86_400 },
        { sequence: 6, code: '', cardNo: device.cardNo, amount: -5, recordedAt: 1, shop: shopId },
      ],
      shopId
    )
    t.deepEqual(
      result.results.map((entry) => [
        entry.sequence,
        entry.status,
        (entry as any).refusal,
        (entry as any).flag,
      ]),
      [
        [6, 'refused', 'invalid_record', null],
        [1, 'refused', 'code_invalid', 'forged_code'],
        [2, 'refused', 'card_mismatch', 'card_mismatch'],
        [3, 'refused', 'code_time_mismatch', 'clock_mismatch'],
        [4, 'refused', 'wrong_shop', 'wrong_shop'],
        [5, 'refused', 'recorded_in_future', 'clock_mismatch'],
      ]
    )
    t.is(result.flagged, 5)
    t.is(await cashOf(person.id), 1000)
    t.is((await flaggedCount()) - flaggedBefore, 5)
    // Uploaded again, the refusals stand and nothing is flagged twice.
    const again = await upload('T-POS-OFF5', [
      { ...good, sequence: 1, code: await forged(good.code) },
    ])
    t.like(again.results[0], { status: 'duplicate', first: 'refused', refusal: 'code_invalid' })
    t.is((await flaggedCount()) - flaggedBefore, 5)
    await assertBalanced(t)
  }
)

test.serial(
  'one upload mixing cash, shortfalls and a repeated code books each record once, in upload order',
  async (t) => {
    const { arrearsOwed } = await import('#ledger/services/arrears')
    const { transferCount } = await import('./given.js')
    const a = await givenHolder(1000)
    const b = await givenHolder(200)
    const c = await givenHolder(1000)
    const repeated = await offlineRecord(a.device, 4, 50, 650)
    const records = [
      await offlineRecord(a.device, 1, 300, 900),
      await offlineRecord(b.device, 2, 150, 850),
      // The shortfall goes the general way (advance fund); A's next record reads its wallet again.
      await offlineRecord(b.device, 3, 100, 800),
      await offlineRecord(a.device, 5, 200, 700),
      repeated,
      { ...repeated, sequence: 6 },
      await offlineRecord(a.device, 7, 300, 600),
    ]
    // More records than one statement writes: 300 payments of 1 fen by C.
    for (let index = 0; index < 300; index++)
      records.push(await offlineRecord(c.device, 100 + index, 1, 500 - index))
    const before = await transferCount()
    const result = await upload('T-POS-OFF6', records, shopId)
    t.is(result.booked, 306)
    t.is(result.refused, 1)
    t.like(
      result.results.find((entry) => entry.sequence === 3),
      {
        status: 'booked',
        covered: 50,
        advanced: 50,
      }
    )
    t.like(
      result.results.find((entry) => entry.sequence === 6),
      {
        status: 'refused',
        refusal: 'code_replayed',
        flag: 'replayed_code',
      }
    )
    t.deepEqual(
      result.results.filter((entry) => entry.sequence < 100).map((entry) => entry.sequence),
      [1, 2, 3, 5, 4, 6, 7]
    )
    t.is(await cashOf(a.person.id), 1000 - 300 - 200 - 50 - 300)
    t.is(await cashOf(b.person.id), 0)
    t.is(await arrearsOwed(b.person.id), 50)
    t.is(await cashOf(c.person.id), 700)
    t.is((await transferCount()) - before, 306)
    const rows = await db
      .from('offline_payment_records')
      .where('terminal_id', 'T-POS-OFF6')
      .select('status', 'transfer_id', 'person_id', 'covered', 'advanced')
    t.is(rows.filter((row) => row.status === 'booked' && row.transfer_id !== null).length, 306)
    t.is(new Set(rows.map((row) => row.transfer_id).filter(Boolean)).size, 306)
    const sales = await db
      .from('merchant_payments')
      .whereIn('person_id', [a.person.id, b.person.id, c.person.id])
      .count('* as total')
      .first()
    t.is(Number(sales?.total), 306)
    // Each account's version counts the transfers that touched it.
    const { walletFor } = await import('#ledger/services/accounts')
    const wallet = await walletFor(c.person.id, 'cash')
    const postings = await db
      .from('ledger_postings')
      .where('account_id', wallet.id)
      .count('* as total')
      .first()
    const stored = await db.from('ledger_accounts').where('id', wallet.id).select('version').first()
    t.is(Number(stored.version) - Number(postings?.total), 0)
    await assertBalanced(t)

    const again = await upload('T-POS-OFF6', records, shopId)
    t.is(again.booked, 0)
    t.is(again.duplicates, 307)
    t.is((await transferCount()) - before, 306)
    await assertBalanced(t)
  }
)
