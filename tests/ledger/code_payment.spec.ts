/**
 * A campus code presented at a shop's till (AuthorizeCodePayment): what it
 * books, every refusal with its error code and nothing written, the
 * idempotency key, the limits, and many payments at once against one wallet.
 */
import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

async function kit() {
  const { AuthorizeCodePayment } = await import('#ledger/actions/authorize_code_payment')
  const given = await import('./given.js')
  const shops = await import('#tests/merchants/given')
  const codes = await import('#tests/cards/code_fixtures')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const settings = await import('#merchants/services/payment_settings')
  const authorize = new AuthorizeCodePayment()
  return {
    ...given,
    ...shops,
    ...codes,
    db,
    settings,
    pay: (input: {
      codeText: string
      shopPublicId: string
      amount: unknown
      idempotencyKey?: string
      at?: DateTime
    }) =>
      authorize.handle({
        codeText: input.codeText,
        shopPublicId: input.shopPublicId,
        amount: input.amount as number,
        idempotencyKey: input.idempotencyKey ?? given.newKey('till'),
        actor: shops.TILL,
        verifier: 'T-TILL-1',
        at: input.at,
      }),
    paymentRows: async () => {
      const [{ total }] = await db.from('merchant_payments').count('* as total')
      return Number(total)
    },
  }
}

const FINANCE = { type: 'user' as const, id: 'U-CODE', name: 'finance' }

/** `fen` of subsidy money issued to the person, valid 30 days. */
async function givenSubsidy(personNo: string, fen: number) {
  const { CreateWalletBatch, IssueWalletBatch } = await import('#ledger/actions/wallet_batches')
  const batch = await new CreateWalletBatch().handle({
    kind: 'subsidy',
    name: '困难补助',
    personNumbers: personNo,
    amountPerPerson: fen,
    expiresAt: DateTime.utc().plus({ days: 30 }),
    actor: FINANCE,
  })
  if (!batch.ok) throw new Error(batch.error)
  const issued = await new IssueWalletBatch().handle({
    batch: batch.value.publicId,
    actor: FINANCE,
    inline: true,
  })
  if (!issued.ok) throw new Error(issued.error)
}

test.serial(
  'a campus code pays at a shop: wallet debited, merchant credited, row kept',
  async (t) => {
    const k = await kit()
    const { shop, merchant } = await k.givenShop()
    const { person, card, device } = await k.givenPayer(1000)
    const result = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 350,
    })
    if (!result.ok) return t.fail(result.error)
    const receipt = result.value
    t.is(receipt.transfer.kind, 'payment')
    t.is(receipt.transfer.amount, 350)
    t.false(receipt.transfer.replayed)
    t.deepEqual(receipt.holder, {
      personPublicId: person.publicId,
      name: person.name,
      cardNo: card.cardNo,
    })
    t.deepEqual(receipt.legs, [{ wallet: 'cash', amount: 350 }])
    t.is(receipt.balanceAfter, 650)
    t.is(await k.cashOf(person.id), 650)
    const { merchantAccount } = await import('#ledger/services/accounts')
    t.is((await merchantAccount(merchant.id)).balance, 350)
    const row = await k.db
      .from('merchant_payments')
      .where('public_id', receipt.payment.publicId)
      .firstOrFail()
    t.is(Number(row.shop_id), shop.id)
    t.is(Number(row.card_id), card.id)
    t.is(row.channel, 'campus_code')
    t.is(Number(row.transfer_id), receipt.transfer.id)
    const state = await k.bookState()
    t.deepEqual(state.mismatched, [])
    t.deepEqual(state.unbalanced, [])
    t.is(state.postingsTotal, 0)
  }
)

test.serial('every bad request has its error code and writes no posting', async (t) => {
  const k = await kit()
  const { shop } = await k.givenShop()
  const { shop: closedShop } = await k.givenShop({ shopStatus: 'disabled' })
  const { shop: closedMerchantShop } = await k.givenShop({ merchantStatus: 'disabled' })
  const { device } = await k.givenPayer(1000)
  const poor = await k.givenPayer(100)
  const transfers = await k.transferCount()
  const rows = await k.paymentRows()

  const cases: [string, () => Promise<{ ok: boolean; error?: string }>][] = [
    [
      'invalid_amount',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: 12.5 }),
    ],
    [
      'invalid_amount',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: '100' }),
    ],
    [
      'invalid_amount',
      async () =>
        k.pay({
          codeText: await k.codeOf(device),
          shopPublicId: shop.publicId,
          amount: Number.NaN,
        }),
    ],
    [
      'invalid_amount',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: Infinity }),
    ],
    [
      'invalid_amount',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: null }),
    ],
    [
      'amount_out_of_range',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: 0 }),
    ],
    [
      'amount_out_of_range',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: -100 }),
    ],
    [
      'amount_out_of_range',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: 1e15 }),
    ],
    [
      'over_transaction_limit',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: shop.publicId, amount: 100_001 }),
    ],
    [
      'shop_not_found',
      async () =>
        k.pay({
          codeText: await k.codeOf(device),
          shopPublicId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
          amount: 100,
        }),
    ],
    [
      'shop_not_found',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: "x' OR 1=1 --", amount: 100 }),
    ],
    [
      'shop_disabled',
      async () =>
        k.pay({ codeText: await k.codeOf(device), shopPublicId: closedShop.publicId, amount: 100 }),
    ],
    [
      'merchant_disabled',
      async () =>
        k.pay({
          codeText: await k.codeOf(device),
          shopPublicId: closedMerchantShop.publicId,
          amount: 100,
        }),
    ],
    [
      'invalid_key',
      async () =>
        k.pay({
          codeText: await k.codeOf(device),
          shopPublicId: shop.publicId,
          amount: 100,
          idempotencyKey: '',
        }),
    ],
    [
      'malformed',
      async () => k.pay({ codeText: 'NOT A CODE', shopPublicId: shop.publicId, amount: 100 }),
    ],
    [
      'bad_issuer_signature',
      async () =>
        k.pay({
          codeText: await k.forged(await k.codeOf(device)),
          shopPublicId: shop.publicId,
          amount: 100,
        }),
    ],
    [
      'code_expired',
      async () =>
        k.pay({
          codeText: await k.codeOf(device, k.nowSeconds() - 3600),
          shopPublicId: shop.publicId,
          amount: 100,
        }),
    ],
    [
      'insufficient_funds',
      async () =>
        k.pay({ codeText: await k.codeOf(poor.device), shopPublicId: shop.publicId, amount: 101 }),
    ],
  ]
  for (const [error, attempt] of cases) {
    const result = await attempt()
    t.false(result.ok, error)
    t.is(result.error, error)
  }

  // A code used once is refused the second time, under another key.
  const text = await k.codeOf(device)
  const first = await k.pay({ codeText: text, shopPublicId: shop.publicId, amount: 10 })
  t.true(first.ok)
  const again = await k.pay({ codeText: text, shopPublicId: shop.publicId, amount: 10 })
  t.like(again, { ok: false, error: 'code_replayed' })
  t.is(await k.transferCount(), transfers + 1)
  t.is(await k.paymentRows(), rows + 1)
})

test.serial('frozen, revoked and blacklisted cards are refused', async (t) => {
  const k = await kit()
  const { shop } = await k.givenShop()
  const { FreezeCard } = await import('#cards/actions/freeze_card')
  const { RevokeCard } = await import('#cards/actions/revoke_card')
  const frozen = await k.givenPayer(1000)
  const revoked = await k.givenPayer(1000)
  const transfers = await k.transferCount()
  const froze = await new FreezeCard().handle(
    { card: { id: frozen.card.id }, by: 'holder', reason: 'lost' },
    { type: 'system' }
  )
  t.true(froze.ok, JSON.stringify(froze))
  const pay1 = await k.pay({
    codeText: await k.codeOf(frozen.device),
    shopPublicId: shop.publicId,
    amount: 100,
  })
  t.like(pay1, { ok: false, error: 'card_blacklisted' })
  const revoke = await new RevokeCard().handle(
    { card: { id: revoked.card.id }, note: '测试注销' },
    { type: 'system' }
  )
  t.true(revoke.ok, JSON.stringify(revoke))
  const pay2 = await k.pay({
    codeText: await k.codeOf(revoked.device),
    shopPublicId: shop.publicId,
    amount: 100,
  })
  t.false(pay2.ok)
  t.true(['card_blacklisted', 'card_revoked'].includes(pay2.ok ? '' : pay2.error))
  t.is(await k.transferCount(), transfers)
})

test.serial('the same key twice books once and answers the first payment', async (t) => {
  const k = await kit()
  const { shop } = await k.givenShop()
  const { person, device } = await k.givenPayer(1000)
  const key = k.newKey('T-TILL-1:seq')
  const text = await k.codeOf(device)
  const first = await k.pay({
    codeText: text,
    shopPublicId: shop.publicId,
    amount: 200,
    idempotencyKey: key,
  })
  if (!first.ok) return t.fail(first.error)
  const transfers = await k.transferCount()
  // The till lost the answer and sends the request again, with the same code.
  const retry = await k.pay({
    codeText: text,
    shopPublicId: shop.publicId,
    amount: 200,
    idempotencyKey: key,
  })
  if (!retry.ok) return t.fail(retry.error)
  t.true(retry.value.transfer.replayed)
  t.is(retry.value.transfer.publicId, first.value.transfer.publicId)
  t.is(retry.value.payment.publicId, first.value.payment.publicId)
  t.is(retry.value.holder.personPublicId, person.publicId)
  t.deepEqual(retry.value.legs, first.value.legs)
  // A key reused for another amount is a conflict.
  const other = await k.pay({
    codeText: await k.codeOf(device),
    shopPublicId: shop.publicId,
    amount: 300,
    idempotencyKey: key,
  })
  t.like(other, { ok: false, error: 'idempotency_conflict' })
  t.is(await k.transferCount(), transfers)
  t.is(await k.cashOf(person.id), 800)
})

test.serial('the daily limit counts the day of the payment in the school time zone', async (t) => {
  const k = await kit()
  const { shop } = await k.givenShop()
  const { person, device } = await k.givenPayer(100_000)
  await k.settings.savePaymentSettings({ codeMaxPerDay: 1000, codeMaxPerPayment: 800 })
  try {
    const one = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 800,
    })
    t.true(one.ok)
    const two = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 201,
    })
    t.like(two, { ok: false, error: 'over_daily_limit' })
    const three = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 200,
    })
    t.true(three.ok)
    const over = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 801,
    })
    t.like(over, { ok: false, error: 'over_transaction_limit' })
    // Tomorrow (in Asia/Shanghai) starts afresh.
    const tomorrow = DateTime.utc()
      .setZone('Asia/Shanghai')
      .plus({ days: 1 })
      .startOf('day')
      .plus({ hours: 1 })
    const next = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 500,
      at: tomorrow,
    })
    t.true(next.ok, JSON.stringify(next))
    t.is(await k.cashOf(person.id), 100_000 - 1500)
  } finally {
    await k.settings.savePaymentSettings({ ...k.settings.DEFAULT_PAYMENT_SETTINGS })
  }
})

test.serial('20 code payments at once against 500 fen: 16 book, none overdraws', async (t) => {
  const k = await kit()
  const { shop } = await k.givenShop()
  const { person, device } = await k.givenPayer(500)
  const texts = await Promise.all(Array.from({ length: 20 }, () => k.codeOf(device)))
  const results = await Promise.all(
    texts.map((codeText) => k.pay({ codeText, shopPublicId: shop.publicId, amount: 30 }))
  )
  const booked = results.filter((result) => result.ok)
  t.is(booked.length, 16)
  t.true(results.every((result) => result.ok || result.error === 'insufficient_funds'))
  t.is(await k.cashOf(person.id), 20)
  const state = await k.bookState()
  t.deepEqual(state.mismatched, [])
  t.deepEqual(state.overdrawn, [])
  t.deepEqual(state.unbalanced, [])
  t.is(state.postingsTotal, 0)
})

test.serial('one request sent twice at once books once', async (t) => {
  const k = await kit()
  const { shop } = await k.givenShop()
  const { person, device } = await k.givenPayer(1000)
  const key = k.newKey('T-TILL-1:dup')
  const text = await k.codeOf(device)
  const transfers = await k.transferCount()
  const results = await Promise.all(
    [1, 2].map(() =>
      k.pay({ codeText: text, shopPublicId: shop.publicId, amount: 100, idempotencyKey: key })
    )
  )
  // The second either waits for the first's answer or meets the code already used.
  t.true(results.some((result) => result.ok))
  t.true(results.every((result) => result.ok || result.error === 'code_replayed'))
  t.is(await k.transferCount(), transfers + 1)
  t.is(await k.cashOf(person.id), 900)
  const later = await k.pay({
    codeText: text,
    shopPublicId: shop.publicId,
    amount: 100,
    idempotencyKey: key,
  })
  t.like(later, { ok: true })
})

test.serial(
  'subsidy money pays first, then cash; the refund goes back to the lot; the books agree',
  async (t) => {
    const k = await kit()
    const { RefundPayment } = await import('#ledger/actions/refund_payment')
    const { walletFor } = await import('#ledger/services/accounts')
    const { shop } = await k.givenShop()
    const { person, device } = await k.givenPayer(1000)
    await givenSubsidy(person.personNo, 300)

    const first = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 500,
    })
    if (!first.ok) return t.fail(first.error)
    t.deepEqual(first.value.legs, [
      { wallet: 'subsidy', amount: 300 },
      { wallet: 'cash', amount: 200 },
    ])
    t.is(first.value.balanceAfter, 800)
    // The subsidy is spent: cash alone pays the next one.
    const second = await k.pay({
      codeText: await k.codeOf(device),
      shopPublicId: shop.publicId,
      amount: 100,
    })
    if (!second.ok) return t.fail(second.error)
    t.deepEqual(second.value.legs, [{ wallet: 'cash', amount: 100 }])
    t.is(second.value.balanceAfter, 700)

    const refund = await new RefundPayment().handle({
      paymentPublicId: first.value.payment.publicId,
      amount: 500,
      authority: 'finance',
      idempotencyKey: k.newKey('refund'),
      actor: FINANCE,
    })
    t.true(refund.ok, JSON.stringify(refund))
    t.is((await walletFor(person.id, 'subsidy')).balance, 300)
    t.is(await k.cashOf(person.id), 900)
    const state = await k.bookState()
    t.deepEqual(state.mismatched, [])
    t.deepEqual(state.unbalanced, [])
    t.is(state.postingsTotal, 0)
  }
)

test.serial(
  'a burst of payments booked in one group commit ends as each would alone; the books agree',
  async (t) => {
    const k = await kit()
    const { bookCodePayment, codePaymentCommits } =
      await import('#ledger/services/code_payment_booking')
    const { verifyCode } = await import('#cards/campus_code/verify')
    const { issuerKeyRing } = await import('#cards/services/issuer_signing')
    const { FreezeCard } = await import('#cards/actions/freeze_card')
    const { walletFor } = await import('#ledger/services/accounts')
    const { newPublicId } = await import('#core/services/ids')
    const { shop } = await k.givenShop()
    // No payment yet: its merchant account is made by the first one.
    const { shop: newShop } = await k.givenShop()
    const cash = await k.givenPayer(1000)
    const twice = await k.givenPayer(1000)
    const replay = await k.givenPayer(1000)
    const subsidised = await k.givenPayer(1000)
    await givenSubsidy(subsidised.person.personNo, 300)
    const limited = await k.givenPayer(100_000)
    const frozen = await k.givenPayer(1000)
    const froze = await new FreezeCard().handle(
      { card: { id: frozen.card.id }, by: 'holder', reason: 'lost' },
      { type: 'system' }
    )
    t.true(froze.ok)
    const firstSale = await k.givenPayer(1000)
    // The card moved to another phone: the old phone's key is on the blacklist.
    const oldPhone = await k.givenPayer(1000)
    const { addToBlacklist } = await import('#cards/services/blacklist')
    const { toHex } = await import('#cards/campus_code/bytes')
    const oldPhoneCode = await verifyCode(await k.codeOf(oldPhone.device), {
      issuerKeys: await issuerKeyRing(),
    })
    if (!oldPhoneCode.ok) return t.fail(oldPhoneCode.error)
    await k.db.transaction((trx) =>
      addToBlacklist(
        trx,
        {
          kind: 'device',
          deviceKey: toHex(oldPhoneCode.value.credential.devicePublicKey),
          cardId: oldPhone.card.id,
        },
        'replaced',
        { type: 'system' }
      )
    )
    // One payment first: the shop's merchant account exists.
    const warm = await k.givenPayer(1000)
    const warmed = await k.pay({
      codeText: await k.codeOf(warm.device),
      shopPublicId: shop.publicId,
      amount: 100,
    })
    t.true(warmed.ok)

    const now = k.nowSeconds()
    const verified = async (text: string) => {
      const result = await verifyCode(text, { issuerKeys: await issuerKeyRing(), now })
      if (!result.ok) throw new Error(result.error)
      return result.value
    }
    const request = async (
      payer: { device: any } | string,
      amount: number,
      options: { shop?: string; key?: string } = {}
    ) => ({
      shopPublicId: options.shop ?? shop.publicId,
      amount,
      idempotencyKey: options.key ?? k.newKey('T-TILL-1:burst'),
      actor: k.TILL,
      verifier: 'T-TILL-1',
      at: DateTime.utc().set({ millisecond: 0 }),
      now,
      code: await verified(typeof payer === 'string' ? payer : await k.codeOf(payer.device)),
      maxPerPayment: 900,
      maxPerDay: 2000,
    })
    const twiceKey = k.newKey('T-TILL-1:twice')
    const twiceCode = await k.codeOf(twice.device)
    const replayCode = await k.codeOf(replay.device)
    const requests = [
      await request(cash, 300),
      await request(cash, 300),
      await request(cash, 300),
      await request(cash, 300),
      await request(twiceCode, 100, { key: twiceKey }),
      await request(twiceCode, 100, { key: twiceKey }),
      await request(replayCode, 100),
      await request(replayCode, 100),
      await request(subsidised, 500),
      await request(subsidised, 100),
      await request(limited, 800),
      await request(limited, 800),
      await request(limited, 800),
      await request(frozen, 100),
      await request(firstSale, 200, { shop: newShop.publicId }),
      await request(firstSale, 300, { shop: newShop.publicId }),
      await request(limited, 901),
      await request(limited, 100, { shop: newPublicId() }),
      await request(oldPhone, 100),
    ]
    const transfers = await k.transferCount()
    const before = { ...codePaymentCommits.stats }
    // Sent in one turn of the event loop: one transaction books them all.
    const outcomes = await Promise.all(requests.map((entry) => bookCodePayment(entry)))
    t.is(codePaymentCommits.stats.units - before.units, requests.length)
    t.is(codePaymentCommits.stats.transactions - before.transactions, 1)
    t.deepEqual(
      outcomes.map((outcome) =>
        outcome.kind === 'refused' ? outcome.failure.error : outcome.kind
      ),
      [
        'booked',
        'booked',
        'booked',
        'insufficient_funds',
        'booked',
        'existing',
        'booked',
        'replayed',
        'booked',
        'booked',
        'booked',
        'booked',
        'over_daily_limit',
        'card_blacklisted',
        'booked',
        'booked',
        'over_transaction_limit',
        'shop_not_found',
        'card_blacklisted',
      ]
    )
    const booked = (index: number) => {
      const outcome = outcomes[index]
      if (outcome.kind !== 'booked') throw new Error(`request ${index}: ${outcome.kind}`)
      return outcome.booked
    }
    // The holder's payments in arrival order: each receipt shows the balance it left.
    t.deepEqual(
      [0, 1, 2].map((index) => booked(index).balanceAfter),
      [700, 400, 100]
    )
    t.deepEqual(booked(8).legs, [
      { wallet: 'subsidy', amount: 300 },
      { wallet: 'cash', amount: 200 },
    ])
    t.deepEqual(booked(9).legs, [{ wallet: 'cash', amount: 100 }])
    t.deepEqual([booked(8).balanceAfter, booked(9).balanceAfter], [800, 700])
    t.is(await k.cashOf(cash.person.id), 100)
    t.is(await k.cashOf(twice.person.id), 900)
    t.is(await k.cashOf(replay.person.id), 900)
    t.is(await k.cashOf(subsidised.person.id), 700)
    t.is((await walletFor(subsidised.person.id, 'subsidy')).balance, 0)
    t.is(await k.cashOf(limited.person.id), 100_000 - 1600)
    t.is(await k.cashOf(frozen.person.id), 1000)
    t.is(await k.cashOf(firstSale.person.id), 500)
    t.is(await k.cashOf(oldPhone.person.id), 1000)
    // One transfer and one payment row per payment booked, none for a refusal.
    t.is(await k.transferCount(), transfers + 11)
    const ids = outcomes.flatMap((outcome) =>
      outcome.kind === 'booked' ? [outcome.booked.transfer.id] : []
    )
    const rows = await k.db
      .from('merchant_payments')
      .whereIn('transfer_id', ids)
      .count('* as total')
    t.is(Number(rows[0].total), 11)
    const state = await k.bookState()
    t.deepEqual(state.mismatched, [])
    t.deepEqual(state.overdrawn, [])
    t.deepEqual(state.unbalanced, [])
    t.is(state.postingsTotal, 0)

    // Again: the key booked answers its payment; the code used under a new key is a replay.
    const again = await Promise.all([
      bookCodePayment(requests[4]),
      bookCodePayment({ ...requests[6], idempotencyKey: k.newKey('again') }),
    ])
    t.deepEqual(
      again.map((outcome) => outcome.kind),
      ['existing', 'replayed']
    )
    t.is(await k.transferCount(), transfers + 11)
  }
)
