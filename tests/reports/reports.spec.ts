/**
 * Money reports and settlement through HTTP: the portal's wallet page, daily
 * settlement statements (adding up against the ledger's postings), recorded
 * payouts, finance reports and their exports, and the mobile merchant report.
 */
import test from 'ava'
import ExcelJS from 'exceljs'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type { GivenPerson } from '#tests/portal/fixtures'
import type Merchant from '#merchants/models/merchant'
import type Shop from '#merchants/models/shop'

let quad: TestApp
let finance: GivenAdmin
let auditor: GivenAdmin
let holder: GivenPerson
let merchant: Merchant
let shopA: Shop
let shopB: Shop
let today: string
let firstPayment: { transferId: number; paymentPublicId: string }

const TOP_UP = 100_000
// Three payments and one refund: the net is 1234 + 777 + 1001 − 300 = 2712.
const NET = 2712

async function signedIn(admin: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  return client
}

/** A payment at a shop, booked as the merchants' code and merchant-code payments book it. */
async function pay(shop: Shop, amount: number) {
  const { bookShopPayment, findPayee } = await import('#merchants/services/shop_payments')
  const { newKey } = await import('#tests/ledger/given')
  const payee = await findPayee({ publicId: shop.publicId })
  if (!payee.ok) throw new Error(payee.error)
  const booked = await bookShopPayment({
    personId: holder.person.id,
    cardId: null,
    payee: payee.value,
    amount,
    channel: 'merchant_code',
    idempotencyKey: newKey('pay'),
    actor: { type: 'terminal', id: 'T-REPORTS', name: 'till' },
    at: DateTime.utc(),
    maxPerDay: 100_000_000,
  })
  if (!booked.ok) throw new Error(booked.error)
  return { transferId: booked.value.transfer.id, paymentPublicId: booked.value.payment.publicId }
}

/** A partial refund of a payment: a transfer of kind refund that refers to it. */
async function refund(payment: { transferId: number; paymentPublicId: string }, amount: number) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { merchantAccount, walletFor } = await import('#ledger/services/accounts')
  const { newKey } = await import('#tests/ledger/given')
  await db.transaction(async (trx) => {
    await trx
      .from('merchant_payments')
      .where('public_id', payment.paymentPublicId)
      .increment('refunded', amount)
    const booked = await new PostTransfer().handle(
      {
        idempotencyKey: newKey('refund'),
        kind: 'refund',
        refersToTransferId: payment.transferId,
        postings: [
          { account: await merchantAccount(merchant.id, trx), amount: -amount },
          { account: await walletFor(holder.person.id, 'cash', trx), amount },
        ],
        actor: { type: 'system', name: 'test' },
      },
      trx
    )
    if (!booked.ok) throw new Error(booked.error)
  })
}

async function merchantBalance(): Promise<number> {
  const { merchantAccount } = await import('#ledger/services/accounts')
  const account = await merchantAccount(merchant.id)
  return account.balance
}

/** The sum of the merchant account's postings, payouts left out. */
async function merchantTakingsFromPostings(): Promise<number> {
  const { selectRows } = await import('#tests/ledger/given')
  const [row] = await selectRows(
    `SELECT COALESCE(SUM(p.amount), 0) AS total FROM ledger_postings p
     JOIN ledger_accounts a ON a.id = p.account_id
     JOIN ledger_transfers t ON t.id = p.transfer_id
     WHERE a.kind = 'merchant' AND a.merchant_id = ? AND t.kind <> 'payout'`,
    [merchant.id]
  )
  return Number(row.total)
}

function attr(html: string, testId: string, name: string): string | null {
  const tag = new RegExp(`<[^>]*data-testid="${testId}"[^>]*>`).exec(html)?.[0]
  if (!tag) return null
  return new RegExp(`data-${name}="([^"]*)"`).exec(tag)?.[1] ?? null
}

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { givenPerson } = await import('#tests/portal/fixtures')
  const { givenShop } = await import('#tests/merchants/given')
  const { givenCard } = await import('#tests/cards/code_fixtures')
  const { default: ShopModel } = await import('#merchants/models/shop')
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const { newKey } = await import('#tests/ledger/given')
  await givenSchool()
  finance = await givenAdmin('finance')
  auditor = await givenAdmin('auditor')
  holder = await givenPerson({ name: '钱包持有人' })
  await holder.person.merge({ identityType: 'teacher' }).save()
  await givenCard(holder.person.id, 'teacher')
  const given = await givenShop()
  merchant = given.merchant
  shopA = given.shop
  // 2.5 % commission, split 85 / 15: amounts chosen so that rounding leaves a fen over.
  await merchant.merge({ commissionBp: 250 }).save()
  shopB = await ShopModel.create({
    merchantId: merchant.id,
    name: '二食堂窗口',
    nameEn: null,
    location: '二食堂',
    category: null,
    status: 'enabled',
  })
  const topUp = await new TopUpAtCounter().handle({
    personPublicId: holder.person.publicId,
    amount: TOP_UP,
    idempotencyKey: newKey('topup'),
    actor: { type: 'system', name: 'test' },
  })
  if (!topUp.ok) throw new Error(topUp.error)
  firstPayment = await pay(shopA, 1234)
  await pay(shopB, 777)
  await pay(shopA, 1001)
  await refund(firstPayment, 300)
  today = DateTime.now().setZone('Asia/Shanghai').toISODate()!
})

test.after.always(async () => {
  await quad?.close()
})

test.serial('the portal wallet shows the real balances and the statement', async (t) => {
  const { portalSignIn } = await import('#tests/portal/fixtures')
  const phone = new TestClient(quad.baseUrl)
  await portalSignIn(phone, holder)

  const page = await phone.get('/portal/wallet')
  t.is(page.status, 200)
  t.is(attr(page.text, 'wallet-balances', 'total'), String(TOP_UP - NET))
  t.regex(page.text, /data-kind="wallet_cash" data-balance="97288"/)
  t.regex(page.text, /data-kind="wallet_subsidy" data-balance="0"/)
  t.notRegex(page.text, /data-testid="wallet-arrears"/)
  const lines = [
    ...page.text.matchAll(/data-testid="wallet-line" data-kind="([a-z_]+)" data-amount="(-?\d+)"/g),
  ]
  t.deepEqual(
    lines.map((line) => [line[1], Number(line[2])]),
    [
      ['refund', 300],
      ['payment', -1001],
      ['payment', -777],
      ['payment', -1234],
      ['top_up', TOP_UP],
    ]
  )
  // Payments and the refund name the merchant and the shop.
  t.regex(page.text, new RegExp(`${merchant.name} · 二食堂窗口`))
  t.is([...page.text.matchAll(/data-testid="wallet-line-payee"/g)].length, 4)

  phone.setCookie('quad_locale', 'en')
  const english = await phone.get('/portal/wallet')
  t.regex(english.text, /My wallet/)
  t.regex(english.text, /Meal vouchers/)
  phone.setCookie('quad_locale', 'zh-CN')

  const thisMonth = await phone.get(`/portal/wallet?month=${today.slice(0, 7)}`)
  t.is([...thisMonth.text.matchAll(/data-testid="wallet-line"/g)].length, 5)
  const longAgo = await phone.get('/portal/wallet?month=2020-01')
  t.regex(longAgo.text, /data-testid="wallet-empty"/)
  t.is((await phone.get('/portal/wallet?month=2020-13')).location, '/portal/wallet')

  // The card page shows the total and links to the wallet; so does the home tile.
  const card = await phone.get('/portal/card')
  t.is(attr(card.text, 'card-wallet-link', 'balance'), String(TOP_UP - NET))
  t.regex(card.text, /href="\/portal\/wallet"/)
  const home = await phone.get('/portal')
  t.regex(home.text, /¥972\.88/)

  // Someone signed out is sent to sign in.
  const stranger = await new TestClient(quad.baseUrl).get('/portal/wallet')
  t.is(stranger.location, '/portal/login?next=%2Fportal%2Fwallet')
})

test.serial('statements add up against the postings; confirmed ones never change', async (t) => {
  const { default: SettlementStatement } = await import('#reports/models/settlement_statement')
  const { generateStatementsJob } = await import('#reports/services/report_jobs')
  // The worker's job makes the drafts (each night for the day before; here for today).
  const logged: unknown[] = []
  await generateStatementsJob.handler({ day: today }, {
    logger: { info: (summary: unknown) => logged.push(summary) },
  } as any)
  t.like(logged[0], { day: today, created: 1, updated: 0, kept: 0 })

  const client = await signedIn(finance)
  await client.get(`/console/settlements?day=${today}`)
  const generated = await client.post('/console/settlements/generate', { day: today })
  t.is(generated.status, 302)
  const list = await client.get(`/console/settlements?day=${today}`)
  t.regex(list.text, /data-flash="notice"/)
  t.is(attr(list.text, 'statement-row', 'net'), String(NET))

  const statement = await SettlementStatement.query()
    .where('merchant_id', merchant.id)
    .where('day', today)
    .firstOrFail()
  t.is(statement.net, await merchantTakingsFromPostings())
  t.is(statement.paymentsAmount, 1234 + 777 + 1001)
  t.is(statement.paymentsCount, 3)
  t.is(statement.refundsAmount, 300)
  t.is(statement.refundsCount, 1)
  // 2712 × 2.5 % = 67.8, rounded down; 2645 shared 85 / 15 = 2248.25 / 396.75.
  t.is(statement.commission, 67)
  t.is(statement.payable, 2645)
  t.deepEqual(
    statement.split.map((line) => [line.party, line.amount]),
    [
      ['operator', 2249],
      ['school', 396],
    ]
  )
  t.is(statement.commission + statement.split.reduce((sum, line) => sum + line.amount, 0), NET)

  const page = await client.get(`/console/settlements/${statement.publicId}`)
  t.is(attr(page.text, 'statement', 'split-total'), '2645')
  t.is(attr(page.text, 'statement', 'status'), 'draft')

  // Today has not ended: it cannot be confirmed.
  await client.post(`/console/settlements/${statement.publicId}/confirm`, {})
  const refused = await client.get(`/console/settlements/${statement.publicId}`)
  t.regex(refused.text, /data-flash="error"/)
  t.is(attr(refused.text, 'statement', 'status'), 'draft')

  // A later payment is taken into a draft when it is generated again.
  await pay(shopA, 500)
  await client.post('/console/settlements/generate', { day: today })
  await statement.refresh()
  t.is(statement.net, NET + 500)

  // As if the day had ended (postings cannot be moved back in time).
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { dbTime } = await import('#ledger/services/accounts')
  await db
    .from('settlement_statements')
    .where('id', statement.id)
    .update({ period_to: dbTime(db.connection(), DateTime.utc().minus({ minutes: 1 })) })
  await client.get(`/console/settlements/${statement.publicId}`)
  await client.post(`/console/settlements/${statement.publicId}/confirm`, {})
  await statement.refresh()
  t.is(statement.status, 'confirmed')
  t.is(statement.net, NET + 500)

  // Confirmed: a later payment and a new generation leave it as it is.
  await pay(shopB, 999)
  await client.post('/console/settlements/generate', { day: today })
  await statement.refresh()
  t.is(statement.net, NET + 500)
  t.is(statement.status, 'confirmed')

  // Those without the finance reports permission see nothing.
  const outsider = await signedIn(auditor)
  t.is((await outsider.get('/console/settlements')).status, 403)
  t.is((await outsider.get(`/console/settlements/${statement.publicId}`)).status, 403)
})

test.serial('a payout books once under its key and moves the merchant balance', async (t) => {
  const { default: SettlementStatement } = await import('#reports/models/settlement_statement')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { systemAccount } = await import('#ledger/services/accounts')
  const { bookState } = await import('#tests/ledger/given')
  const statement = await SettlementStatement.query()
    .where('merchant_id', merchant.id)
    .where('day', today)
    .firstOrFail()
  const net = statement.net
  const before = await merchantBalance()
  const client = await signedIn(finance)

  // Refused by permission (a 403 page), not by a missing form token (a redirect).
  const outsider = await signedIn(auditor)
  await outsider.get('/console')
  const forbidden = await outsider.post(`/console/settlements/${statement.publicId}/payout`, {})
  t.is(forbidden.status, 403)
  t.is(forbidden.location, null)

  await client.get(`/console/settlements/${statement.publicId}`)
  const paid = await client.post(`/console/settlements/${statement.publicId}/payout`, {
    reference: 'BANK-20261202-001',
  })
  t.is(paid.status, 302)
  await client.get(`/console/settlements/${statement.publicId}`)
  const again = await client.post(`/console/settlements/${statement.publicId}/payout`, {
    reference: 'BANK-20261202-001',
  })
  t.is(again.status, 302)
  const page = await client.get(`/console/settlements/${statement.publicId}`)
  t.regex(page.text, /data-flash="notice"/)
  t.is(attr(page.text, 'statement', 'status'), 'paid')

  const payouts = await db.from('ledger_transfers').where('kind', 'payout')
  t.is(payouts.length, 1)
  t.is(payouts[0].idempotency_key, `payout:${statement.publicId}`)
  t.is(await merchantBalance(), before - net)
  await statement.refresh()
  t.is(statement.status, 'paid')
  t.is(statement.payoutReference, 'BANK-20261202-001')
  const clearing = await systemAccount('payout_clearing')
  t.is(clearing.balance, statement.payable)
  const audits = await db
    .from('audit_entries')
    .where('action', 'reports.payout_recorded')
    .where('subject_id', statement.publicId)
  t.is(audits.length, 1)
  const books = await bookState()
  t.deepEqual(books.mismatched, [])
  t.is(books.postingsTotal, 0)
})

test.serial('finance reports draw the ledger and export as CSV and XLSX', async (t) => {
  const { PostTransfer } = await import('#ledger/actions/post_transfer')
  const { systemAccount, walletFor } = await import('#ledger/services/accounts')
  const { newKey } = await import('#tests/ledger/given')
  const issued = await new PostTransfer().handle({
    idempotencyKey: newKey('subsidy'),
    kind: 'subsidy_issue',
    postings: [
      { account: await systemAccount('subsidy_funding'), amount: -5000 },
      { account: await walletFor(holder.person.id, 'subsidy'), amount: 5000 },
    ],
    actor: { type: 'system', name: 'test' },
  })
  if (!issued.ok) throw new Error(issued.error)
  const client = await signedIn(finance)
  const page = await client.get('/console/reports')
  t.is(page.status, 200)
  t.is(attr(page.text, 'top-ups-total', 'amount'), String(TOP_UP))
  // Payments 1234 + 777 + 1001 + 500 + 999, refund 300; the payout is not spending.
  const spent = NET + 500 + 999
  t.is(attr(page.text, 'spending-total', 'net'), String(spent))
  t.regex(page.text, /data-testid="spending-category" data-category="canteen" data-net="4211"/)
  t.true([...page.text.matchAll(/data-testid="chart"/g)].length >= 3)
  t.regex(page.text, /data-column="subsidy_issued" data-amount="5000"/)
  t.regex(page.text, /data-column="subsidy_expired" data-amount="0"/)

  const csv = await client.get(
    `/console/reports/export?section=spending&format=csv&from=${today}&to=${today}`
  )
  t.is(csv.status, 200)
  t.regex(csv.headers.get('content-type') ?? '', /text\/csv/)
  t.true(csv.text.includes(`${merchant.code},`))
  t.true(csv.text.includes(',42.11'))

  const response = await fetch(
    `${quad.baseUrl}/console/reports/export?section=spending&format=xlsx&from=${today}&to=${today}`,
    { headers: { cookie: (client as any).cookieHeader() } }
  )
  t.is(response.status, 200)
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(Buffer.from(await response.arrayBuffer()) as any)
  const sheet = workbook.worksheets[0]
  const rows: string[][] = []
  sheet.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map(String)))
  t.is(rows[0][0], '商户编号')
  const line = rows.find((row) => row[0] === merchant.code)
  t.truthy(line)
  t.is(line?.[7], '42.11')

  const topUps = await client.get(
    `/console/reports/export?section=top_ups&format=csv&from=${today}&to=${today}`
  )
  t.true(topUps.text.includes(`${today},人工窗口,1,1000.00`))

  const subsidies = await client.get(
    `/console/reports/export?section=subsidies&format=csv&from=${today}&to=${today}`
  )
  t.true(subsidies.text.includes(`${today},50.00,0.00,0.00,0.00`))

  // A range longer than 92 days, or a section that does not exist, is refused.
  t.is(
    (await client.get('/console/reports?from=2025-01-01&to=2025-12-31')).location,
    '/console/reports'
  )
  t.is(
    (await client.get('/console/reports/export?section=people&format=csv')).location,
    '/console/reports'
  )
  const outsider = await signedIn(auditor)
  t.is((await outsider.get('/console/reports')).status, 403)
})

test.serial(
  'the mobile merchant report opens with its link and refuses a wrong or replaced one',
  async (t) => {
    const client = await signedIn(finance)
    const links = await client.get('/console/settlements/links')
    t.regex(links.text, new RegExp(`data-merchant="${merchant.publicId}"`))
    const made = await client.post(`/console/settlements/links/${merchant.publicId}`, {})
    t.is(made.location, '/console/settlements/links')
    const shown = await client.get('/console/settlements/links')
    const url = /data-testid="report-link-url">([^<]+)</.exec(shown.text)?.[1]
    t.truthy(url)
    const path = new URL(url!).pathname
    // The link is shown once.
    t.notRegex((await client.get('/console/settlements/links')).text, /report-link-url/)

    const owner = new TestClient(quad.baseUrl)
    const report = await owner.get(path)
    t.is(report.status, 200)
    t.is(report.headers.get('referrer-policy'), 'no-referrer')
    // Today's net counts every payment and refund, and not the payout.
    t.is(attr(report.text, 'merchant-report-today', 'net'), String(NET + 500 + 999))
    t.regex(report.text, /二食堂窗口/)
    t.regex(report.text, /data-testid="chart"/)
    t.is([...report.text.matchAll(/data-testid="merchant-report-day"/g)].length, 7)

    t.is((await owner.get('/merchant-report/' + 'x'.repeat(32))).status, 404)
    t.is((await owner.get('/merchant-report/short')).status, 404)

    await client.get('/console/settlements/links')
    await client.post(`/console/settlements/links/${merchant.publicId}`, {})
    const rotated = await client.get('/console/settlements/links')
    const next = new URL(/data-testid="report-link-url">([^<]+)</.exec(rotated.text)![1]).pathname
    t.not(next, path)
    t.is((await owner.get(path)).status, 404)
    t.is((await owner.get(next)).status, 200)
    const reader = new TestClient(quad.baseUrl)
    reader.setCookie('quad_locale', 'en')
    const english = await reader.get(next)
    t.regex(english.text, /Net over the last 7 days/)

    // Refused by permission (a 403 page), not by a missing form token (a redirect).
    const outsider = await signedIn(auditor)
    await outsider.get('/console')
    const forbidden = await outsider.post(`/console/settlements/links/${merchant.publicId}`, {})
    t.is(forbidden.status, 403)
    t.is(forbidden.location, null)
  }
)
