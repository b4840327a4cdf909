/**
 * The merchants console and the portal's merchant-code payment, through
 * HTTP: merchants with split rules, shops with their printed code,
 * enable/disable (audited), refunds and payment limits; in the portal the
 * payment PIN, its lockout, the limits and a double submission.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp
let consoleClient: TestClient

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const admin = await givenAdmin('finance')
  consoleClient = new TestClient(quad.baseUrl)
  await signIn(consoleClient, admin)
})

test.after.always(async () => {
  await quad?.close()
})

async function db() {
  return (await import('@adonisjs/lucid/services/db')).default
}

async function auditActions(subjectId: string) {
  const rows = await (
    await db()
  )
    .from('audit_entries')
    .where('subject_id', subjectId)
    .orderBy('seq')
    .select('action')
  return rows.map((row) => row.action)
}

const merchantForm = {
  code: 'C001',
  name: '第一食堂',
  nameEn: 'Canteen One',
  category: 'canteen',
  contactName: '王经理',
  commissionBp: '300',
  splitRules: 'operator=8500\nschool=1500',
  refundWindowDays: '7',
}

test.serial(
  'a merchant with split rules, a shop and its printed code; enable and disable are audited',
  async (t) => {
    const { default: Merchant } = await import('#merchants/models/merchant')
    await consoleClient.get('/console/merchants/new')
    // Shares that do not sum to 10000 are refused and nothing is created.
    const bad = await consoleClient.post('/console/merchants', {
      ...merchantForm,
      splitRules: 'operator=8000\nschool=1500',
    })
    t.is(bad.status, 302)
    t.is(await Merchant.query().where('code', 'C001').first(), null)
    const page = await consoleClient.get(bad.location!)
    t.true(page.text.includes('合计必须为 10000'))

    await consoleClient.get('/console/merchants/new')
    const created = await consoleClient.post('/console/merchants', merchantForm)
    t.is(created.status, 302)
    const merchant = await Merchant.findByOrFail('code', 'C001')
    t.deepEqual(merchant.splitRules, [
      { party: 'operator', basisPoints: 8500 },
      { party: 'school', basisPoints: 1500 },
    ])
    t.is(merchant.commissionBp, 300)
    t.is(created.location, `/console/merchants/${merchant.publicId}`)

    const list = await consoleClient.get('/console/merchants')
    t.true(list.text.includes('第一食堂'))
    await consoleClient.get(`/console/merchants/${merchant.publicId}`)
    const shopCreated = await consoleClient.post(`/console/merchants/${merchant.publicId}/shops`, {
      name: '二楼清真窗口',
      location: '一食堂二楼',
      category: '',
    })
    t.is(shopCreated.status, 302)
    const shopPage = await consoleClient.get(shopCreated.location!)
    t.is(shopPage.status, 200)
    t.true(shopPage.text.includes('<svg'))
    const { default: Shop } = await import('#merchants/models/shop')
    const shop = await Shop.findByOrFail('merchant_id', merchant.id)
    t.true(shopPage.text.includes(`/portal/pay/${shop.codeToken}`))

    await consoleClient.get(`/console/merchants/${merchant.publicId}`)
    const disabled = await consoleClient.post(`/console/merchants/${merchant.publicId}/status`, {
      status: 'disabled',
    })
    t.is(disabled.status, 302)
    await merchant.refresh()
    t.is(merchant.status, 'disabled')
    await consoleClient.get(`/console/merchants/${merchant.publicId}`)
    await consoleClient.post(`/console/merchants/${merchant.publicId}/status`, {
      status: 'enabled',
    })
    t.deepEqual(await auditActions(merchant.publicId), [
      'merchants.merchant_created',
      'merchants.merchant_disabled',
      'merchants.merchant_enabled',
    ])
    t.deepEqual(await auditActions(shop.publicId), ['merchants.shop_created'])

    // Renewing the printed code changes the token.
    const before = shop.codeToken
    await consoleClient.get(`/console/merchants/shops/${shop.publicId}`)
    await consoleClient.post(`/console/merchants/shops/${shop.publicId}/change`, {
      change: 'renew_code',
    })
    await shop.refresh()
    t.not(shop.codeToken, before)
  }
)

test.serial('without merchants.view the console refuses', async (t) => {
  const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  const other = new TestClient(quad.baseUrl)
  await signIn(other, await givenAdmin('card_office'))
  const response = await other.get('/console/merchants')
  t.is(response.status, 403)
})

async function portalPayer(fen: number) {
  const { givenPerson, portalSignIn } = await import('#tests/portal/fixtures')
  const { givenCard } = await import('#tests/cards/code_fixtures')
  const { ActivateCard } = await import('#cards/actions/activate_card')
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const { newKey } = await import('#tests/ledger/given')
  const given = await givenPerson()
  const card = await givenCard(given.person.id, 'student')
  await new ActivateCard().handle({ card: { id: card.id } }, { type: 'system' })
  await new TopUpAtCounter().handle({
    personPublicId: given.person.publicId,
    amount: fen,
    idempotencyKey: newKey('topup'),
    actor: { type: 'system' },
  })
  const browser = new TestClient(quad.baseUrl)
  await portalSignIn(browser, given)
  return { ...given, card, browser }
}

function flash(html: string) {
  return /data-flash="error">\s*([^<]+?)\s*</.exec(html)?.[1] ?? null
}

test.serial(
  'portal merchant-code payment: PIN above the threshold, lockout, limits, one booking per form',
  async (t) => {
    const { givenShop } = await import('./given.js')
    const { cashOf } = await import('./given.js')
    const { transferCount } = await import('#tests/ledger/given')
    const { shop } = await givenShop()
    const payer = await portalPayer(100_000)
    const browser = payer.browser

    // Reached through the address the printed code carries, or the scan form.
    const scanned = await browser.get(
      `/portal/pay?code=${encodeURIComponent(`https://quad.example/portal/pay/${shop.codeToken}`)}`
    )
    t.is(scanned.location, `/portal/pay/${shop.codeToken}`)
    const page = await browser.get(`/portal/pay/${shop.codeToken}`)
    t.is(page.status, 200)
    t.true(page.text.includes(shop.name))
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)![1]

    // ¥12.50: below the PIN threshold (¥50).
    const paid = await browser.post(`/portal/pay/${shop.codeToken}`, {
      amount: '12.50',
      idempotencyKey: key,
    })
    t.is(paid.status, 200)
    t.true(paid.text.includes('data-testid="pay-receipt"'))
    const twice = await browser.post(`/portal/pay/${shop.codeToken}`, {
      amount: '12.50',
      idempotencyKey: key,
    })
    t.is(twice.status, 200)
    t.is(await cashOf(payer.person.id), 100_000 - 1250)

    const transfers = await transferCount()
    const post = async (form: Record<string, string>) => {
      const formPage = await browser.get(`/portal/pay/${shop.codeToken}`)
      const fresh = /name="idempotencyKey" value="([^"]+)"/.exec(formPage.text)![1]
      const response = await browser.post(`/portal/pay/${shop.codeToken}`, {
        idempotencyKey: fresh,
        ...form,
      })
      return response.status === 302 ? flash((await browser.get(response.location!)).text) : 'paid'
    }
    // Bad amounts.
    for (const amount of ['0', '-1', '1.234', 'abc', '99999999999999']) {
      t.not(await post({ amount }), 'paid', amount)
    }
    // Above the threshold: no PIN yet.
    t.is(await post({ amount: '60' }), '请先设置支付密码。')
    // Set a PIN (a weak one is refused).
    await browser.get('/portal/pay/pin')
    const weak = await browser.post('/portal/pay/pin', { pin: '123456', pinConfirmation: '123456' })
    t.is(weak.location, '/portal/pay/pin')
    await browser.get('/portal/pay/pin')
    const set = await browser.post('/portal/pay/pin', { pin: '274951', pinConfirmation: '274951' })
    t.is(set.location, '/portal/pay')
    t.is(await post({ amount: '60' }), '该金额需要输入支付密码。')
    t.is(await post({ amount: '60', pin: '000001' }), '支付密码错误，还可尝试 4 次。')
    t.is(await transferCount(), transfers)
    t.is(await post({ amount: '60', pin: '274951' }), 'paid')
    // Five wrong tries lock the PIN, even against the right one.
    for (let index = 0; index < 4; index++) await post({ amount: '60', pin: '000002' })
    t.regex((await post({ amount: '60', pin: '000002' })) ?? '', /已锁定 15 分钟/)
    t.regex((await post({ amount: '60', pin: '274951' })) ?? '', /已锁定/)
    // Over one payment's limit (¥500) and over the day's (¥500 in all).
    t.is(await post({ amount: '500.01' }), '超过单笔限额。')
    const { default: PaymentPin } = await import('#merchants/models/payment_pin')
    await PaymentPin.query()
      .where('person_id', payer.person.id)
      .update({ lockedUntil: null, failedAttempts: 0 })
    t.is(await post({ amount: '450', pin: '274951' }), '超过每日限额。')
    t.is(await cashOf(payer.person.id), 100_000 - 1250 - 6000)
    t.is(await transferCount(), transfers + 1)
  }
)

test.serial(
  'console refunds: the merchant within its window, never more than the payment',
  async (t) => {
    const { givenShop, cashOf } = await import('./given.js')
    const { shop, merchant } = await givenShop()
    const payer = await portalPayer(10_000)
    const page = await payer.browser.get(`/portal/pay/${shop.codeToken}`)
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)![1]
    await payer.browser.post(`/portal/pay/${shop.codeToken}`, { amount: '30', idempotencyKey: key })
    t.is(await cashOf(payer.person.id), 7000)

    const show = await consoleClient.get(`/console/merchants/${merchant.publicId}`)
    const paymentId = /data-payment="([0-9A-Z]{26})"/.exec(show.text)![1]
    const refund = (amount: string, refundKey: string) =>
      consoleClient.post(`/console/merchants/payments/${paymentId}/refunds`, {
        amount,
        authority: 'merchant',
        reason: '退菜',
        idempotencyKey: refundKey,
      })
    await consoleClient.get(`/console/merchants/${merchant.publicId}`)
    await refund('10', 'refund-key-0001')
    await consoleClient.get(`/console/merchants/${merchant.publicId}`)
    await refund('10', 'refund-key-0001')
    t.is(await cashOf(payer.person.id), 8000)
    await consoleClient.get(`/console/merchants/${merchant.publicId}`)
    const tooMuch = await refund('20.01', 'refund-key-0002')
    t.is(flash((await consoleClient.get(tooMuch.location!)).text), '超过该笔消费的剩余可退金额。')
    t.is(await cashOf(payer.person.id), 8000)
    const { bookState } = await import('#tests/ledger/given')
    const state = await bookState()
    t.deepEqual(state.mismatched, [])
    t.is(state.postingsTotal, 0)
  }
)

test.serial('payment limits are set in the console and audited', async (t) => {
  await consoleClient.get('/console/merchants/settings')
  const saved = await consoleClient.post('/console/merchants/settings', {
    codeMaxPerPayment: '300',
    codeMaxPerDay: '800',
    merchantCodeMaxPerPayment: '200',
    merchantCodeMaxPerDay: '500',
    pinThreshold: '20',
    refundWindowDays: '3',
  })
  t.is(saved.location, '/console/merchants/settings')
  const { paymentSettings, forgetPaymentSettings } =
    await import('#merchants/services/payment_settings')
  forgetPaymentSettings()
  t.like(await paymentSettings(), {
    codeMaxPerPayment: 30_000,
    pinThreshold: 2000,
    refundWindowDays: 3,
  })
  t.deepEqual(await auditActions('payment'), ['merchants.payment_settings_changed'])
  await consoleClient.get('/console/merchants/settings')
  const bad = await consoleClient.post('/console/merchants/settings', {
    codeMaxPerPayment: '-1',
    codeMaxPerDay: '800',
    merchantCodeMaxPerPayment: '200',
    merchantCodeMaxPerDay: '500',
    pinThreshold: '20',
    refundWindowDays: '3',
  })
  t.is(bad.status, 302)
  forgetPaymentSettings()
  t.like(await paymentSettings(), { codeMaxPerPayment: 30_000 })
})
