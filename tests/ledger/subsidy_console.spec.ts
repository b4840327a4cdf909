import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'

let quad: TestApp
let finance: GivenAdmin
let auditor: GivenAdmin
let holders: Person[]

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { givenPerson } = await import('./given.js')
  await givenSchool()
  finance = await givenAdmin('finance')
  auditor = await givenAdmin('auditor')
  holders = [await givenPerson('补贴'), await givenPerson('补贴')]
})

test.after.always(async () => {
  await quad?.close()
})

async function signedIn(admin: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  return client
}

async function lastAudit() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db.from('audit_entries').orderBy('seq', 'desc').first()
}

test.serial(
  'finance creates, previews, issues and sweeps a subsidy batch in the console',
  async (t) => {
    const client = await signedIn(finance)
    const page = await client.get('/console/wallets/subsidies')
    t.is(page.status, 200)
    t.regex(page.text, /补贴发放/)
    const expiresOn = DateTime.now().plus({ days: 10 }).toISODate()!
    const form = {
      name: '十二月伙食补贴',
      amount: '120.00',
      expiresOn,
      personNumbers: holders.map((holder) => holder.personNo).join('\n'),
      categories: 'canteen',
    }

    // A broken row: the batch is refused and the rows are listed.
    const broken = await client.post('/console/wallets/subsidies', {
      ...form,
      personNumbers: `${form.personNumbers}\nNOBODY-1`,
    })
    t.is(broken.status, 302)
    const shown = await client.follow(broken)
    t.regex(shown.text, /data-testid="broken-rows"/)
    t.regex(shown.text, /NOBODY-1/)

    const preview = await client.follow(
      await client.post('/console/wallets/subsidies', { ...form, preview: '1' })
    )
    t.regex(preview.text, /将发放给 2 人/)

    const created = await client.post('/console/wallets/subsidies', form)
    t.is(created.status, 302)
    const match = /\/console\/wallets\/subsidies\/([0-9A-Z]{26})$/.exec(created.location ?? '')
    t.truthy(match)
    const batch = match![1]
    t.is((await lastAudit()).action, 'ledger.subsidy_batch_created')

    const issued = await client.post(`/console/wallets/subsidies/${batch}/issue`, {})
    t.is(issued.status, 302)
    t.is((await lastAudit()).action, 'ledger.subsidy_batch_issued')
    // The worker's part, run here.
    const { runWalletBatch } = await import('#ledger/actions/wallet_batches')
    t.like(await runWalletBatch(batch), { issued: 2, failed: 0 })
    const detail = await client.get(`/console/wallets/subsidies/${batch}`)
    t.regex(detail.text, /data-status="issued" data-issued="2" data-failed="0"/)
    t.is((detail.text.match(/data-testid="recipient-row" data-status="issued"/g) ?? []).length, 2)

    const swept = await client.post(`/console/wallets/subsidies/${batch}/expire`, {})
    t.is(swept.status, 302)
    t.regex((await client.follow(swept)).text, /已回收 ¥240\.00/)
    t.is((await lastAudit()).action, 'ledger.subsidy_batch_swept')

    // Without ledger.write nobody creates a batch.
    const reader = await signedIn(auditor)
    t.is((await reader.post('/console/wallets/subsidies', form)).status, 403)
  }
)

test.serial('vouchers page, spending order form and channel reconciliation with CSV', async (t) => {
  const client = await signedIn(finance)
  t.is((await client.get('/console/wallets/vouchers')).status, 200)
  const settings = await client.get('/console/wallets/settings')
  t.is(settings.status, 200)
  const saved = await client.post('/console/wallets/settings', {
    first: 'voucher',
    second: 'subsidy',
    third: 'cash',
    cardToCard: '1',
    maxPerTransfer: '200',
    maxPerDay: '500',
    lunchFrom: '11:15',
    lunchTo: '13:00',
  })
  t.is(saved.status, 302)
  t.is((await lastAudit()).action, 'ledger.wallet_settings_changed')
  const { walletSettings, forgetWalletSettings, saveWalletSettings, DEFAULT_WALLET_SETTINGS } =
    await import('#ledger/services/wallet_settings')
  forgetWalletSettings()
  t.deepEqual((await walletSettings()).spendingOrder, ['voucher', 'subsidy', 'cash'])
  t.deepEqual(
    (await walletSettings()).mealWindows.find((window) => window.meal === 'lunch'),
    { meal: 'lunch', from: 675, to: 780 }
  )
  t.deepEqual((await walletSettings()).cardToCard, {
    enabled: true,
    maxPerTransfer: 20000,
    maxPerDay: 50000,
  })
  // An order naming a wallet twice is refused, nothing saved.
  await client.post('/console/wallets/settings', {
    first: 'cash',
    second: 'cash',
    third: 'subsidy',
    maxPerTransfer: '200',
    maxPerDay: '500',
  })
  t.deepEqual((await walletSettings()).spendingOrder, ['voucher', 'subsidy', 'cash'])
  const { default: db } = await import('@adonisjs/lucid/services/db')
  await saveWalletSettings(db.connection(), DEFAULT_WALLET_SETTINGS)

  const page = await client.get('/console/wallets/reconciliation')
  t.is(page.status, 200)
  t.regex(page.text, /data-testid="reconciliation-row" data-channel="counter"/)
  const csv = await client.get('/console/wallets/reconciliation.csv')
  t.is(csv.status, 200)
  t.regex(csv.text, /^\uFEFF?day,channel,channel_label,top_ups/)
  t.regex(csv.text, /,counter,柜台,/)
})

test.serial('refund on leaving from the console: only for people who have left', async (t) => {
  const { givenPerson } = await import('./given.js')
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const leaver = await givenPerson('离校')
  const topped = await new TopUpAtCounter().handle({
    personPublicId: leaver.publicId,
    amount: 4321,
    idempotencyKey: `console-leave-top-up:${leaver.publicId}`,
    actor: { type: 'user', id: 'U-T', name: 'cashier' },
  })
  t.true(topped.ok)
  const client = await signedIn(finance)
  const before = await client.get(`/console/wallets/leaving?personNo=${leaver.personNo}`)
  t.regex(before.text, /data-testid="leaving-person" data-status="active"/)
  t.notRegex(before.text, /name="idempotencyKey"/)
  const early = await client.post(`/console/wallets/leaving/${leaver.publicId}`, {
    idempotencyKey: 'leave:01JAAAAAAAAAAAAAAAAAAAAAAA',
  })
  t.is(early.status, 302)
  leaver.status = 'left'
  await leaver.save()
  const page = await client.get(`/console/wallets/leaving?personNo=${leaver.personNo}`)
  const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)![1]
  const done = await client.post(`/console/wallets/leaving/${leaver.publicId}`, {
    idempotencyKey: key,
  })
  t.is(done.status, 302)
  t.regex(done.location ?? '', /\/receipt$/)
  const after = await client.get(`/console/wallets/leaving?personNo=${leaver.personNo}`)
  t.regex(after.text, /data-kind="wallet_cash" data-balance="0"/)
  t.is((await lastAudit()).action, 'ledger.leave_refund')
})
