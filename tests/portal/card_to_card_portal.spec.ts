/**
 * The portal's card-to-card transfer (/portal/wallet/transfer) through HTTP:
 * refused while the school has not enabled it, the recipient's masked name
 * before booking, exact amounts, one booking per form, the payment PIN and
 * the school's limits.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { saveWalletSettings, DEFAULT_WALLET_SETTINGS } =
    await import('#ledger/services/wallet_settings')
  await saveWalletSettings(db.connection(), { cardToCard: DEFAULT_WALLET_SETTINGS.cardToCard })
  await quad?.close()
})

const PIN = '274951'

async function setCardToCard(enabled: boolean, maxPerTransfer = 20_000, maxPerDay = 30_000) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { saveWalletSettings } = await import('#ledger/services/wallet_settings')
  await saveWalletSettings(db.connection(), { cardToCard: { enabled, maxPerTransfer, maxPerDay } })
}

/** A signed-in holder with `fen` in the cash wallet and, unless told otherwise, a payment PIN. */
async function givenHolder(fen: number, options: { name?: string; pin?: boolean } = {}) {
  const { givenPerson, portalSignIn } = await import('#tests/portal/fixtures')
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const { newKey } = await import('#tests/ledger/given')
  const given = await givenPerson({ name: options.name })
  if (fen > 0) {
    const topUp = await new TopUpAtCounter().handle({
      personPublicId: given.person.publicId,
      amount: fen,
      idempotencyKey: newKey('topup'),
      actor: { type: 'system' },
    })
    if (!topUp.ok) throw new Error(topUp.error)
  }
  const browser = new TestClient(quad.baseUrl)
  await portalSignIn(browser, given)
  if (options.pin !== false) {
    await browser.get('/portal/pay/pin')
    const set = await browser.post('/portal/pay/pin', { pin: PIN, pinConfirmation: PIN })
    if (set.location !== '/portal/pay') throw new Error('setting the PIN failed')
  }
  return { ...given, browser }
}

async function cashOf(personId: number): Promise<number> {
  const { walletsOf } = await import('#ledger/services/accounts')
  const wallets = await walletsOf(personId)
  return wallets.find((wallet) => wallet.kind === 'wallet_cash')?.balance ?? 0
}

async function flashAfter(
  browser: TestClient,
  response: { status: number; location: string | null }
) {
  const { flashOf } = await import('#tests/portal/fixtures')
  if (response.status !== 302 || !response.location) return null
  return flashOf((await browser.get(response.location)).text)
}

/** The confirm step for a form, or the refusal it was sent back with. */
async function review(browser: TestClient, form: Record<string, string>) {
  await browser.get('/portal/wallet/transfer')
  const response = await browser.post('/portal/wallet/transfer/review', form)
  if (response.status !== 200)
    return { refused: await flashAfter(browser, response), key: null, text: '' }
  const key = /name="idempotencyKey" value="([^"]+)"/.exec(response.text)?.[1] ?? null
  return { refused: null, key, text: response.text }
}

/** Reviews and confirms a transfer: 'booked' and the receipt, or the refusal. */
async function transfer(browser: TestClient, form: Record<string, string>, pin = PIN) {
  const reviewed = await review(browser, form)
  if (reviewed.refused || !reviewed.key) return { outcome: reviewed.refused, key: null, text: '' }
  const response = await browser.post('/portal/wallet/transfer', {
    ...form,
    idempotencyKey: reviewed.key,
    pin,
  })
  if (response.status === 200 && response.text.includes('data-testid="transfer-receipt"'))
    return { outcome: 'booked', key: reviewed.key, text: response.text }
  return { outcome: await flashAfter(browser, response), key: reviewed.key, text: '' }
}

async function assertBooksBalance(t: import('ava').ExecutionContext) {
  const given = await import('#tests/ledger/given')
  await given.assertBooksBalance(t)
}

test.serial(
  'while the school has not enabled transfers, the page says so and nothing is booked',
  async (t) => {
    const { transferCount } = await import('#tests/ledger/given')
    await setCardToCard(false)
    const sender = await givenHolder(10_000)
    const recipient = await givenHolder(0, { pin: false })

    const wallet = await sender.browser.get('/portal/wallet')
    t.is(wallet.status, 200)
    t.false(wallet.text.includes('data-testid="wallet-transfer"'))
    const page = await sender.browser.get('/portal/wallet/transfer')
    t.is(page.status, 200)
    t.true(page.text.includes('data-testid="transfer-disabled"'))
    t.false(page.text.includes('data-testid="transfer-form"'))

    const before = await transferCount()
    const reviewed = await review(sender.browser, { recipient: recipient.personNo, amount: '10' })
    t.is(reviewed.refused, '学校未开通转账功能。')
    // A confirm form posted anyway is refused as well.
    const booked = await sender.browser.post('/portal/wallet/transfer', {
      recipient: recipient.personNo,
      amount: '10',
      idempotencyKey: 'ABCDEFGH12345678',
      pin: PIN,
    })
    t.is(await flashAfter(sender.browser, booked), '学校未开通转账功能。')
    t.is(await transferCount(), before)
    t.is(await cashOf(sender.person.id), 10_000)
    t.is(await cashOf(recipient.person.id), 0)
  }
)

test.serial('a signed-out visitor is sent to sign in', async (t) => {
  const anonymous = new TestClient(quad.baseUrl)
  const response = await anonymous.get('/portal/wallet/transfer')
  t.is(response.status, 302)
  t.regex(response.location ?? '', /\/portal\/login/)
})

test.serial(
  'a transfer shows the masked name, then moves exactly the amount; the books balance',
  async (t) => {
    await setCardToCard(true)
    const sender = await givenHolder(10_000)
    const recipient = await givenHolder(500, { name: '张小三', pin: false })

    const wallet = await sender.browser.get('/portal/wallet')
    t.true(wallet.text.includes('href="/portal/wallet/transfer"'))

    // Lower-case person numbers find the same person.
    const reviewed = await review(sender.browser, {
      recipient: recipient.personNo.toLowerCase(),
      amount: '0.29',
      memo: '午饭',
    })
    t.is(reviewed.refused, null)
    t.regex(reviewed.text, /data-testid="transfer-recipient-name">张\*三</)
    t.false(reviewed.text.includes('张小三'))

    // ¥0.29 and ¥12.34: amounts that floating point gets wrong (0.29 * 100 = 28.999…).
    const first = await transfer(sender.browser, {
      recipient: recipient.personNo,
      amount: '0.29',
      memo: '午饭',
    })
    t.is(first.outcome, 'booked')
    t.true(first.text.includes('张*三'))
    const second = await transfer(sender.browser, {
      recipient: recipient.personNo,
      amount: '12.34',
    })
    t.is(second.outcome, 'booked')
    t.is(await cashOf(sender.person.id), 10_000 - 29 - 1234)
    t.is(await cashOf(recipient.person.id), 500 + 29 + 1234)
    await assertBooksBalance(t)

    const { default: db } = await import('@adonisjs/lucid/services/db')
    const transfer0 = await db
      .from('ledger_transfers')
      .where('idempotency_key', `portal-c2c:${sender.person.publicId}:${first.key}`)
      .first()
    t.is(transfer0?.kind, 'card_to_card')
    t.is(transfer0?.memo, '午饭')
  }
)

test.serial('the same form submitted twice books once and shows the first receipt', async (t) => {
  const { transferCount } = await import('#tests/ledger/given')
  await setCardToCard(true)
  const sender = await givenHolder(10_000)
  const recipient = await givenHolder(0, { pin: false })
  const form = { recipient: recipient.personNo, amount: '25.50' }
  const reviewed = await review(sender.browser, form)
  t.truthy(reviewed.key)
  const before = await transferCount()
  const submit = () =>
    sender.browser.post('/portal/wallet/transfer', {
      ...form,
      idempotencyKey: reviewed.key!,
      pin: PIN,
    })
  const first = await submit()
  const again = await submit()
  t.is(first.status, 200)
  t.is(again.status, 200)
  const number = (html: string) => /data-testid="transfer-no">([^<]+)</.exec(html)?.[1]
  t.truthy(number(first.text))
  t.is(number(again.text), number(first.text))
  t.false(first.text.includes('data-testid="transfer-replayed"'))
  t.true(again.text.includes('data-testid="transfer-replayed"'))
  t.is(await transferCount(), before + 1)
  t.is(await cashOf(sender.person.id), 10_000 - 2550)
  t.is(await cashOf(recipient.person.id), 2550)
  await assertBooksBalance(t)
})

test.serial('a wrong PIN refuses and books nothing; five lock it', async (t) => {
  const { transferCount } = await import('#tests/ledger/given')
  await setCardToCard(true)
  const sender = await givenHolder(10_000)
  const recipient = await givenHolder(0, { pin: false })
  const form = { recipient: recipient.personNo, amount: '10' }
  const before = await transferCount()
  t.is((await transfer(sender.browser, form, '000001')).outcome, '支付密码错误，还可尝试 4 次。')
  t.is((await transfer(sender.browser, form, '')).outcome, '支付密码错误，还可尝试 3 次。')
  for (let index = 0; index < 2; index++) await transfer(sender.browser, form, '000002')
  t.regex((await transfer(sender.browser, form, '000002')).outcome ?? '', /已锁定 15 分钟/)
  t.regex((await transfer(sender.browser, form, PIN)).outcome ?? '', /已锁定/)
  t.is(await transferCount(), before)
  t.is(await cashOf(sender.person.id), 10_000)
  t.is(await cashOf(recipient.person.id), 0)

  // Without a PIN the confirm step asks for one and booking is refused.
  const noPin = await givenHolder(1000, { pin: false })
  const afterTopUp = await transferCount()
  const reviewed = await review(noPin.browser, form)
  t.true(reviewed.text.includes('data-testid="transfer-no-pin"'))
  const response = await noPin.browser.post('/portal/wallet/transfer', {
    ...form,
    idempotencyKey: 'ABCDEFGH12345679',
    pin: PIN,
  })
  t.is(await flashAfter(noPin.browser, response), '请先设置支付密码。')
  t.is(await transferCount(), afterTopUp)
  t.is(await cashOf(noPin.person.id), 1000)
})

test.serial('refusals: limits, funds, bad amounts, unknown recipient and oneself', async (t) => {
  const { transferCount } = await import('#tests/ledger/given')
  // ¥200 per transfer, ¥300 a day.
  await setCardToCard(true, 20_000, 30_000)
  const sender = await givenHolder(40_000)
  const recipient = await givenHolder(0, { pin: false })
  const to = recipient.personNo
  const before = await transferCount()

  t.is(
    (await transfer(sender.browser, { recipient: to, amount: '200.01' })).outcome,
    '金额必须大于零，且单笔不超过 ¥200.00。'
  )
  for (const amount of ['0', '-1', '1.234', 'abc', '1e3', '99999999999999'])
    t.not((await transfer(sender.browser, { recipient: to, amount })).outcome, 'booked', amount)
  t.is(
    (await transfer(sender.browser, { recipient: to, amount: '1.234' })).outcome,
    '请输入以元为单位、最多两位小数的金额。'
  )
  t.is(
    (await transfer(sender.browser, { recipient: 'NOSUCH0001', amount: '1' })).outcome,
    '没有这个学号/工号。'
  )
  t.is(
    (await transfer(sender.browser, { recipient: sender.personNo, amount: '1' })).outcome,
    '不能转账给自己。'
  )
  t.is(await transferCount(), before)

  t.is((await transfer(sender.browser, { recipient: to, amount: '200' })).outcome, 'booked')
  t.is(
    (await transfer(sender.browser, { recipient: to, amount: '150' })).outcome,
    '超过每日转账限额 ¥300.00，今天还可转 ¥100.00。'
  )
  t.is((await transfer(sender.browser, { recipient: to, amount: '100' })).outcome, 'booked')
  t.is(await cashOf(sender.person.id), 10_000)

  // Within the limits but more than the wallet holds.
  await setCardToCard(true, 20_000, 100_000)
  t.is(
    (await transfer(sender.browser, { recipient: to, amount: '100.01' })).outcome,
    '现金余额不足。'
  )
  t.is(await transferCount(), before + 2)
  t.is(await cashOf(sender.person.id), 10_000)
  t.is(await cashOf(recipient.person.id), 30_000)
  await assertBooksBalance(t)

  // The same refusal in English.
  sender.browser.setCookie('quad_locale', 'en')
  t.is(
    (await transfer(sender.browser, { recipient: to, amount: '100.01' })).outcome,
    'Not enough cash in your wallet.'
  )
  t.is(await transferCount(), before + 2)
})

test.serial('recipient lookups are limited per holder and hour', async (t) => {
  const { TRANSFER_LOOKUPS_PER_HOUR } = await import('#ledger/portal_routes')
  await setCardToCard(true)
  const sender = await givenHolder(1000)
  const recipient = await givenHolder(0, { pin: false })
  const other = await givenHolder(1000)
  for (let index = 0; index < TRANSFER_LOOKUPS_PER_HOUR; index++) {
    const response = await sender.browser.post('/portal/wallet/transfer/review', {
      recipient: recipient.person.personNo,
      amount: '1',
    })
    t.is(response.status, 200)
  }
  const refused = await sender.browser.post('/portal/wallet/transfer/review', {
    recipient: recipient.person.personNo,
    amount: '1',
  })
  t.is(refused.status, 429)
  t.false(refused.text.includes('data-testid="transfer-recipient-name"'))
  // Another holder is not held back by the first one's lookups.
  const reviewed = await review(other.browser, {
    recipient: recipient.person.personNo,
    amount: '1',
  })
  t.is(reviewed.refused, null)
})
