/**
 * Refunds of payments at shops (RefundPayment): full and partial, back to
 * the wallets the payment came from, never more than is left — also when
 * requested at once — the merchant's window and finance's any-time refund,
 * and the idempotency key.
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

const FINANCE = { type: 'user' as const, id: '1', name: 'finance' }

async function kit() {
  const { AuthorizeCodePayment } = await import('#ledger/actions/authorize_code_payment')
  const { RefundPayment } = await import('#ledger/actions/refund_payment')
  const given = await import('./given.js')
  const shops = await import('#tests/merchants/given')
  const codes = await import('#tests/cards/code_fixtures')
  const { merchantAccount } = await import('#ledger/services/accounts')
  const refunds = new RefundPayment()
  return {
    ...given,
    ...shops,
    merchantAccount,
    paid: async (fen: number, amount: number) => {
      const { shop, merchant } = await shops.givenShop()
      const payer = await shops.givenPayer(fen)
      const result = await new AuthorizeCodePayment().handle({
        codeText: await codes.codeOf(payer.device),
        shopPublicId: shop.publicId,
        amount,
        idempotencyKey: given.newKey('pay'),
        actor: shops.TILL,
        verifier: 'T-TILL-1',
      })
      if (!result.ok) throw new Error(result.error)
      return { ...payer, merchant, payment: result.value.payment, transfer: result.value.transfer }
    },
    refund: (input: {
      payment: string
      amount: unknown
      authority?: 'merchant' | 'finance'
      key?: string
      at?: DateTime
    }) =>
      refunds.handle({
        paymentPublicId: input.payment,
        amount: input.amount as number,
        authority: input.authority ?? 'merchant',
        idempotencyKey: input.key ?? given.newKey('refund'),
        actor: FINANCE,
        reason: '退菜',
        at: input.at,
      }),
  }
}

test.serial('partial refunds then the rest; never more than the payment', async (t) => {
  const k = await kit()
  const { person, merchant, payment, transfer } = await k.paid(1000, 600)
  const first = await k.refund({ payment: payment.publicId, amount: 200 })
  if (!first.ok) return t.fail(first.error)
  t.is(first.value.transfer.kind, 'refund')
  t.is(first.value.transfer.refersToTransferId, transfer.id)
  t.like(first.value.payment, { amount: 600, refunded: 200, refundable: 400 })
  t.is(await k.cashOf(person.id), 600)
  const transfers = await k.transferCount()
  const tooMuch = await k.refund({ payment: payment.publicId, amount: 401 })
  t.like(tooMuch, { ok: false, error: 'refund_exceeds_payment' })
  t.is(await k.transferCount(), transfers)
  const rest = await k.refund({ payment: payment.publicId, amount: 400 })
  t.like(rest, { ok: true })
  t.is(await k.cashOf(person.id), 1000)
  t.is((await k.merchantAccount(merchant.id)).balance, 0)
  const again = await k.refund({ payment: payment.publicId, amount: 1 })
  t.like(again, { ok: false, error: 'refund_exceeds_payment' })
  const state = await k.bookState()
  t.deepEqual(state.mismatched, [])
  t.deepEqual(state.unbalanced, [])
  t.deepEqual(state.overdrawn, [])
  t.is(state.postingsTotal, 0)
})

test.serial('bad refund requests have their codes and book nothing', async (t) => {
  const k = await kit()
  const { payment } = await k.paid(1000, 300)
  const transfers = await k.transferCount()
  for (const [amount, error] of [
    [0, 'amount_out_of_range'],
    [-5, 'amount_out_of_range'],
    [1.5, 'invalid_amount'],
    ['10', 'invalid_amount'],
    [1e16, 'amount_out_of_range'],
    [301, 'refund_exceeds_payment'],
  ] as const) {
    const result = await k.refund({ payment: payment.publicId, amount })
    t.like(result, { ok: false, error }, String(amount))
  }
  t.like(await k.refund({ payment: '01ARZ3NDEKTSV4RRFFQ69G5FAV', amount: 1 }), {
    ok: false,
    error: 'payment_not_found',
  })
  t.like(await k.refund({ payment: payment.publicId, amount: 1, key: '' }), {
    ok: false,
    error: 'invalid_key',
  })
  t.is(await k.transferCount(), transfers)
})

test.serial('the merchant refunds within its window; finance at any time', async (t) => {
  const k = await kit()
  const { payment, person } = await k.paid(1000, 300)
  const later = DateTime.utc().plus({ days: 8 })
  t.like(await k.refund({ payment: payment.publicId, amount: 100, at: later }), {
    ok: false,
    error: 'refund_window_closed',
  })
  t.like(
    await k.refund({ payment: payment.publicId, amount: 100, at: later, authority: 'finance' }),
    {
      ok: true,
    }
  )
  t.is(await k.cashOf(person.id), 800)
})

test.serial(
  'the same refund key twice books once; concurrent refunds never exceed the payment',
  async (t) => {
    const k = await kit()
    const { payment, person } = await k.paid(1000, 500)
    const key = k.newKey('refund-form')
    const one = await k.refund({ payment: payment.publicId, amount: 100, key })
    const two = await k.refund({ payment: payment.publicId, amount: 100, key })
    if (!one.ok || !two.ok) return t.fail('refund refused')
    t.is(two.value.transfer.publicId, one.value.transfer.publicId)
    t.true(two.value.transfer.replayed)
    t.like(await k.refund({ payment: payment.publicId, amount: 50, key }), {
      ok: false,
      error: 'idempotency_conflict',
    })
    // 400 left; ten refunds of 60 at once: six book, four are refused.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => k.refund({ payment: payment.publicId, amount: 60 }))
    )
    t.is(results.filter((result) => result.ok).length, 6)
    t.true(results.every((result) => result.ok || result.error === 'refund_exceeds_payment'))
    t.is(await k.cashOf(person.id), 500 + 100 + 360)
    const state = await k.bookState()
    t.deepEqual(state.mismatched, [])
    t.is(state.postingsTotal, 0)
  }
)
