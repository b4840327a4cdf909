import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'

let quad: TestApp
let cashier: GivenAdmin
let viewer: GivenAdmin
let auditor: GivenAdmin
let holder: Person

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { default: Role } = await import('#identity/models/role')
  const { givenPerson } = await import('./given.js')
  await givenSchool()
  cashier = await givenAdmin('finance')
  // A school's own role that may read the ledger but not book on it.
  await Role.create({
    key: 'ledger_viewer',
    nameZh: '账务查询',
    nameEn: 'Ledger viewer',
    builtIn: false,
    storedPermissions: ['console.access', 'ledger.read'],
  })
  viewer = await givenAdmin('ledger_viewer')
  auditor = await givenAdmin('auditor')
  holder = await givenPerson('王小明')
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

async function cashBalance(): Promise<number | null> {
  const { default: LedgerAccount } = await import('#ledger/models/ledger_account')
  const wallet = await LedgerAccount.query()
    .where('person_id', holder.id)
    .where('kind', 'wallet_cash')
    .first()
  return wallet?.balance ?? null
}

async function topUpCount(): Promise<number> {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const [{ total }] = await db.from('ledger_transfers').where('kind', 'top_up').count('* as total')
  return Number(total)
}

/** The hidden key of the top-up form on the page. */
function formKey(html: string): string {
  const match = /name="idempotencyKey" value="([^"]+)"/.exec(html)
  if (!match) throw new Error('the page has no top-up form')
  return match[1]
}

test.serial('a cashier finds a person and tops up their cash wallet, with a receipt', async (t) => {
  const client = await signedIn(cashier)
  const search = await client.get(`/console/ledger?q=${encodeURIComponent(holder.personNo)}`)
  t.is(search.status, 200)
  t.regex(search.text, new RegExp(`data-person-no="${holder.personNo}"`))
  t.regex(search.text, /未开通/)

  const page = await client.get(`/console/ledger/people/${holder.publicId}`)
  t.is(page.status, 200)
  const response = await client.post(`/console/ledger/people/${holder.publicId}/top-ups`, {
    amount: '12.50',
    memo: '现金',
    idempotencyKey: formKey(page.text),
  })
  t.is(response.status, 302)
  t.regex(response.location ?? '', /^\/console\/ledger\/transfers\/[0-9A-Z]{26}\/receipt$/)
  t.is(await cashBalance(), 1250)

  const receipt = await client.follow(response)
  t.is(receipt.status, 200)
  t.regex(receipt.text, /已为 王小明\d+ 充值 ¥12\.50/)
  t.regex(receipt.text, /data-testid="receipt-amount">¥12\.50</)
  t.regex(receipt.text, /data-testid="receipt-number"><code>\d{8}-\d{8}<\/code>/)
  t.regex(receipt.text, /\/css\/ledger\.css/)
  t.regex(receipt.text, /data-print/)

  const { default: db } = await import('@adonisjs/lucid/services/db')
  const audit = await db.from('audit_entries').orderBy('seq', 'desc').first()
  t.is(audit.action, 'ledger.counter_top_up')
  t.is(audit.actor_id, cashier.user.publicId)

  // The person's page now shows the balance and the statement line.
  const after = await client.get(`/console/ledger/people/${holder.publicId}`)
  t.regex(after.text, /data-kind="wallet_cash" data-balance="1250"/)
  t.regex(after.text, /data-testid="statement-row"/)
  t.regex(after.text, /\+¥12\.50/)
})

test.serial('submitting the same form twice books once and shows the first receipt', async (t) => {
  const client = await signedIn(cashier)
  const page = await client.get(`/console/ledger/people/${holder.publicId}`)
  const key = formKey(page.text)
  const before = await cashBalance()
  const count = await topUpCount()
  const form = { amount: '100', memo: '', idempotencyKey: key }
  const [first, second] = await Promise.all([
    client.post(`/console/ledger/people/${holder.publicId}/top-ups`, form),
    client.post(`/console/ledger/people/${holder.publicId}/top-ups`, form),
  ])
  t.is(first.status, 302)
  t.is(second.status, 302)
  t.is(first.location, second.location)
  t.is(await cashBalance(), before! + 10000)
  t.is(await topUpCount(), count + 1)

  // A third submit, later (the back button, a resend): still the first receipt.
  const third = await client.post(`/console/ledger/people/${holder.publicId}/top-ups`, form)
  t.is(third.location, first.location)
  const shown = await client.follow(third)
  t.regex(shown.text, /这张表单已经提交过/)
  t.is(await topUpCount(), count + 1)
  // A freshly drawn form carries a new key.
  const again = await client.get(`/console/ledger/people/${holder.publicId}`)
  t.not(formKey(again.text), key)
})

test.serial('refuses amounts that are not money, with the reason at the field', async (t) => {
  const client = await signedIn(cashier)
  const before = await cashBalance()
  const count = await topUpCount()
  const cases: [string, RegExp][] = [
    ['12.505', /最多两位小数/],
    ['abc', /请输入金额/],
    ['¥10', /请输入金额/],
    ['1,000', /请输入金额/],
    ['0', /充值金额须在 ¥0\.01 到 ¥10,000\.00 之间/],
    ['-5', /充值金额须在/],
    ['10000.01', /充值金额须在/],
    ['', /amount|金额/],
  ]
  for (const [amount, message] of cases) {
    const page = await client.get(`/console/ledger/people/${holder.publicId}`)
    const response = await client.post(`/console/ledger/people/${holder.publicId}/top-ups`, {
      amount,
      idempotencyKey: formKey(page.text),
    })
    t.is(response.status, 302, amount)
    const shown = await client.follow(response)
    t.regex(shown.text, /data-error-for="amount"/, amount)
    t.regex(shown.text, message, amount)
  }
  t.is(await cashBalance(), before)
  t.is(await topUpCount(), count)
})

test.serial(
  'an account that may read the ledger but not write sees no form and cannot top up',
  async (t) => {
    const client = await signedIn(viewer)
    const page = await client.get(`/console/ledger/people/${holder.publicId}`)
    t.is(page.status, 200)
    t.notRegex(page.text, /data-testid="top-up-form"/)
    const before = await cashBalance()
    const refused = await client.post(`/console/ledger/people/${holder.publicId}/top-ups`, {
      amount: '50',
      idempotencyKey: 'console:forged-key-0001',
    })
    t.is(refused.status, 403)
    t.is(await cashBalance(), before)

    const outsider = await signedIn(auditor)
    t.is((await outsider.get('/console/ledger')).status, 403)
    t.is((await outsider.get('/console/trial-balance')).status, 403)
  }
)

test.serial(
  'a top-up is reversed from its transfer page, once, and its receipt says so',
  async (t) => {
    const client = await signedIn(cashier)
    const page = await client.get(`/console/ledger/people/${holder.publicId}`)
    const booked = await client.post(`/console/ledger/people/${holder.publicId}/top-ups`, {
      amount: '8.88',
      idempotencyKey: formKey(page.text),
    })
    const transferPath = booked.location!.replace(/\/receipt$/, '')
    const before = await cashBalance()
    const transfer = await client.get(transferPath)
    t.is(transfer.status, 200)
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(transfer.text)![1]
    const reversed = await client.post(`${transferPath}/reverse`, {
      memo: '录错金额',
      idempotencyKey: key,
    })
    t.is(reversed.status, 302)
    t.is(await cashBalance(), before! - 888)
    const reversal = await client.follow(reversed)
    t.regex(reversal.text, /data-testid="reverses-link"/)
    // The same form again books nothing more.
    const again = await client.post(`${transferPath}/reverse`, {
      memo: '录错金额',
      idempotencyKey: key,
    })
    t.is(again.location, reversed.location)
    t.is(await cashBalance(), before! - 888)
    const original = await client.get(transferPath)
    t.regex(original.text, /data-testid="reversed-by-link"/)
    t.notRegex(original.text, /data-testid="reverse-form"/)
    const receipt = await client.get(`${transferPath}/receipt`)
    t.regex(receipt.text, /data-testid="receipt-reversed"/)
  }
)

test.serial('the trial balance of today balances and exports as CSV', async (t) => {
  const client = await signedIn(cashier)
  const page = await client.get('/console/trial-balance')
  t.is(page.status, 200)
  t.regex(page.text, /data-testid="trial-balance-state" data-balanced="true"/)
  // Today: 12.50 + 100.00 + 8.88 topped up, 8.88 reversed.
  const wallet =
    /data-kind="wallet_cash" data-debits="(\d+)" data-credits="(\d+)" data-closing="(\d+)"/.exec(
      page.text
    )!
  t.deepEqual(wallet.slice(1).map(Number), [888, 1250 + 10000 + 888, 1250 + 10000])
  const total = /data-testid="trial-balance-total" data-debits="(\d+)" data-credits="(\d+)"/.exec(
    page.text
  )!
  t.is(total[1], total[2])

  const csv = await client.get(`/console/trial-balance.csv`)
  t.is(csv.status, 200)
  t.regex(csv.headers.get('content-type') ?? '', /text\/csv/)
  // fetch drops the byte order mark when it decodes the body.
  t.true(csv.text.startsWith('day,kind,'))
  t.regex(csv.text, /,wallet_cash,现金钱包,credit,1,0\.00,8\.88,121\.38,112\.50\r\n/)
  t.regex(csv.text, /,total,合计,,,0\.00,(\d+\.\d\d),\1,0\.00\r\n/)

  // Yesterday nothing had happened yet; tomorrow cannot be asked for.
  const { DateTime } = await import('luxon')
  const yesterday = DateTime.now().setZone('Asia/Shanghai').minus({ days: 1 }).toISODate()
  const earlier = await client.get(`/console/trial-balance?day=${yesterday}`)
  t.regex(earlier.text, /data-kind="wallet_cash" data-debits="0" data-credits="0" data-closing="0"/)
  const tomorrow = DateTime.now().setZone('Asia/Shanghai').plus({ days: 1 }).toISODate()
  const future = await client.get(`/console/trial-balance?day=${tomorrow}`)
  t.is(future.status, 302)
})
