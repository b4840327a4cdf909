/**
 * Bulk actions on the cards list: ticked cards or every card the filter
 * selects, each through its own action with its own audit entry, and each
 * card's outcome reported back.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'
import type Card from '#cards/models/card'

let quad: TestApp
let admin: GivenAdmin
let auditor: GivenAdmin
let people: Map<string, Person>

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople, givenAccount } = await import('./fixtures.js')
  await givenSchool()
  admin = await givenAccount('super_admin')
  auditor = await givenAccount('auditor')
  people = await givenPeople(
    Array.from({ length: 8 }, (_, index) => ({ no: `B00${index + 1}`, type: 'teacher' as const }))
  )
})

test.after.always(async () => {
  await quad?.close()
})

async function signedIn(who: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, who)
  return client
}

async function cardFor(no: string): Promise<Card> {
  const { IssueCard } = await import('#cards/actions/issue_card')
  const result = await new IssueCard().handle(
    { person: { id: people.get(no)!.id }, cardType: { code: 'teacher' } },
    { type: 'system' }
  )
  if (!result.ok) throw new Error(result.error)
  return result.value
}

/** Posts the bulk form with repeated `cards` fields, as a browser sends ticked boxes. */
async function postBulk(client: TestClient, fields: Record<string, string>, cards: string[]) {
  const body = new URLSearchParams({ ...fields, _csrf: client.csrfToken ?? '' })
  for (const id of cards) body.append('cards', id)
  return client.request('POST', '/console/cards/bulk', {
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
}

async function auditCount(action: string, subjectId?: string) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const query = db.from('audit_entries').where('action', action)
  if (subjectId) query.where('subject_id', subjectId)
  const rows = await query.count('* as total')
  return Number(rows[0].total)
}

async function stateOf(card: Card) {
  const { default: CardModel } = await import('#cards/models/card')
  const fresh = await CardModel.findOrFail(card.id)
  return fresh.state
}

test.serial('bulk freeze of a mix reports each card; frozen ones are skipped', async (t) => {
  const cards = await Promise.all(['B001', 'B002', 'B003'].map((no) => cardFor(no)))
  const { FreezeCard } = await import('#cards/actions/freeze_card')
  const already = await new FreezeCard().handle(
    { card: { id: cards[2].id }, by: 'admin', reason: 'admin', note: '早先冻结' },
    { type: 'system' }
  )
  t.true(already.ok)

  const client = await signedIn(admin)
  const list = await client.get('/console/cards')
  t.is(list.status, 200)
  t.regex(list.text, /data-testid="cards-bulk"/)
  t.regex(list.text, /<script src="\/js\/card_bulk\.js/)
  t.regex(list.text, new RegExp(`name="cards" value="${cards[0].publicId}"`))

  const forged = '01ARZ3NDEKTSV4RRFFQ69G5FAV'
  const response = await postBulk(
    client,
    { action: 'freeze', reason: 'admin', note: '批量冻结测试' },
    [...cards.map((card) => card.publicId), forged]
  )
  t.is(response.status, 200)
  t.regex(response.text, /data-testid="bulk-summary" data-done="2"/)
  t.regex(
    response.text,
    new RegExp(`data-card="${cards[2].publicId}" data-ok="0" data-error="invalid_transition"`)
  )
  t.regex(response.text, new RegExp(`data-card="${forged}" data-ok="0" data-error="not_found"`))
  t.regex(response.text, /跳过 1 张/)
  t.is(await stateOf(cards[0]), 'frozen')
  t.is(await stateOf(cards[1]), 'frozen')
  t.is(await auditCount('cards.frozen', cards[0].publicId), 1)
  t.is(await auditCount('cards.frozen', cards[1].publicId), 1)
  // The card frozen before keeps its single audit entry.
  t.is(await auditCount('cards.frozen', cards[2].publicId), 1)

  const unfreeze = await postBulk(
    client,
    { action: 'unfreeze' },
    cards.map((card) => card.publicId)
  )
  t.regex(unfreeze.text, /data-done="3"/)
  for (const card of cards) t.is(await stateOf(card), 'pending_activation')
})

test.serial('every card the filter selects, and the notes the actions need', async (t) => {
  const cards = await Promise.all(['B004', 'B005'].map((no) => cardFor(no)))
  const client = await signedIn(admin)
  await client.get('/console/cards?q=B00')
  const noNote = await postBulk(client, { action: 'revoke', scope: 'filter', q: 'B004' }, [])
  t.is(noNote.status, 302)
  t.is(await stateOf(cards[0]), 'pending_activation')

  await client.get('/console/cards')
  const revoke = await postBulk(
    client,
    { action: 'revoke', scope: 'filter', q: 'B004', note: '按筛选注销' },
    []
  )
  t.is(revoke.status, 200)
  t.regex(revoke.text, /data-done="1"/)
  t.is(await stateOf(cards[0]), 'revoked')
  t.is(await stateOf(cards[1]), 'pending_activation')
  t.is(await auditCount('cards.revoked', cards[0].publicId), 1)

  await client.get('/console/cards')
  const reissue = await postBulk(client, { action: 'reissue', note: '批量补卡' }, [
    cards[1].publicId,
  ])
  t.regex(reissue.text, /data-done="1"/)
  t.is(await stateOf(cards[1]), 'revoked')
  t.is(await auditCount('cards.reissued', cards[1].publicId), 1)
})

test.serial('without cards.write: 403', async (t) => {
  const card = await cardFor('B006')
  const client = await signedIn(auditor)
  t.is((await client.get('/console')).status, 200)
  const response = await postBulk(client, { action: 'freeze', reason: 'admin', note: '越权冻结' }, [
    card.publicId,
  ])
  t.is(response.status, 403)
  t.is(await stateOf(card), 'pending_activation')
})

test.serial('a bulk form without its CSRF token is refused', async (t) => {
  const card = await cardFor('B007')
  const client = await signedIn(admin)
  await client.get('/console/cards')
  const body = new URLSearchParams({
    action: 'freeze',
    reason: 'admin',
    note: '无令牌',
    cards: card.publicId,
  })
  const response = await client.request('POST', '/console/cards/bulk', {
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.not(response.status, 200)
  t.is(await stateOf(card), 'pending_activation')
})

async function exportFile(client: TestClient, fields: Record<string, string>) {
  await client.get('/console/cards')
  const body = new URLSearchParams({ ...fields, _csrf: client.csrfToken ?? '' })
  const response = await fetch(`${quad.baseUrl}/console/cards/export`, {
    method: 'POST',
    redirect: 'manual',
    body: body.toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'cookie': (client as unknown as { cookieHeader(): string }).cookieHeader(),
    },
  })
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    bytes: Buffer.from(await response.arrayBuffer()),
  }
}

test.serial('the filtered list exports as XLSX and CSV, and each export is audited', async (t) => {
  const card = await cardFor('B008')
  const client = await signedIn(admin)
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const before = await auditCount('cards.exported')
  const xlsx = await exportFile(client, { format: 'xlsx', q: 'B008' })
  t.is(xlsx.status, 200)
  t.regex(xlsx.type, /spreadsheetml/)
  const { default: ExcelJS } = await import('exceljs')
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer)
  const sheet = workbook.worksheets[0]
  const rows: string[][] = []
  sheet.eachRow((row) => {
    rows.push((row.values as unknown[]).slice(1).map((value) => String(value ?? '')))
  })
  t.deepEqual(rows[0], [
    '卡号',
    '持卡人',
    '学工号',
    '所属单位',
    '卡类型',
    '状态',
    '生效时间',
    '有效期至',
    '激活时间',
  ])
  t.is(rows.length, 2)
  const { formatCardNo } = await import('#cards/services/card_numbers')
  t.is(rows[1][0], formatCardNo(card.cardNo))
  t.is(rows[1][2], 'B008')
  t.is(rows[1][4], '教师卡')
  t.is(rows[1][5], '待激活')
  t.regex(rows[1][6], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)

  const csv = await exportFile(client, { format: 'csv', state: 'revoked' })
  t.is(csv.status, 200)
  t.regex(csv.type, /text\/csv/)
  const text = csv.bytes.toString('utf8').replace(/^\uFEFF/, '')
  const lines = text.trim().split('\r\n')
  const revoked = await db.from('cards').where('state', 'revoked').count('* as total')
  t.is(lines.length, 1 + Number(revoked[0].total))
  t.true(lines.slice(1).every((line) => line.includes(',已注销,')))

  const entries = await db
    .from('audit_entries')
    .where('action', 'cards.exported')
    .orderBy('seq')
    .select('meta')
  t.is(entries.length - before, 2)
  const meta = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value)
  t.like(meta(entries.at(-2)!.meta), { format: 'xlsx', count: 1, filters: { q: 'B008' } })
  t.like(meta(entries.at(-1)!.meta), { format: 'csv', filters: { state: 'revoked' } })
})

test.serial('the dashboard counts cards by type and state, and activations per day', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { DateTime } = await import('luxon')
  const { default: CardModel } = await import('#cards/models/card')
  // Two cards activated today; one of them then frozen.
  const { givenPeople } = await import('./fixtures.js')
  const more = await givenPeople([
    { no: 'D001', type: 'teacher' },
    { no: 'D002', type: 'teacher' },
  ])
  for (const [no, person] of more) people.set(no, person)
  const activated = await Promise.all(['D001', 'D002'].map((no) => cardFor(no)))
  for (const card of activated) {
    const fresh = await CardModel.findOrFail(card.id)
    fresh.state = 'active'
    fresh.activatedAt = DateTime.utc().minus({ minutes: 1 }).set({ millisecond: 0 })
    await fresh.save()
  }
  const { FreezeCard } = await import('#cards/actions/freeze_card')
  t.true(
    (
      await new FreezeCard().handle(
        { card: { id: activated[1].id }, by: 'admin', reason: 'admin', note: '概况测试' },
        { type: 'system' }
      )
    ).ok
  )
  const expected = await db
    .from('cards')
    .join('card_types', 'card_types.id', 'cards.card_type_id')
    .where('card_types.code', 'teacher')
    .select('cards.state')
    .count('* as total')
    .groupBy('cards.state')
  const byState: Record<string, number> = Object.fromEntries(
    expected.map((row) => [row.state as string, Number(row.total)])
  )
  const issued = Object.values(byState).reduce((sum, count) => sum + count, 0)

  const client = await signedIn(admin)
  const page = await client.get('/console/cards/dashboard')
  t.is(page.status, 200)
  const row = new RegExp(
    `data-testid="card-count-row" data-type="teacher" data-issued="(\\d+)">([\\s\\S]*?)</tr>`
  ).exec(page.text)
  t.truthy(row)
  t.is(Number(row![1]), issued)
  for (const state of ['pending_activation', 'active', 'frozen', 'revoked', 'expired']) {
    const cell = new RegExp(`data-count="${state}">(\\d+)<`).exec(row![2])
    t.is(Number(cell![1]), byState[state] ?? 0, state)
  }
  t.is(byState.active, 1)
  t.is(byState.frozen >= 1, true)
  t.regex(page.text, /data-testid="activation-chart" data-total="2"/)
  t.regex(page.text, /<svg class="chart-svg/)
  t.notRegex(page.text, /<script>/)

  const outsider = await signedIn(auditor)
  t.is((await outsider.get('/console/cards/dashboard')).status, 403)
})

test.serial('a selection larger than the configured limit is refused whole', async (t) => {
  const { default: quadConfig } = await import('#config/quad')
  const { default: CardModel } = await import('#cards/models/card')
  const live = await CardModel.query().where('state', 'pending_activation').select('public_id')
  t.true(live.length >= 2)
  const limit = quadConfig.cardsBulk.inlineLimit
  quadConfig.cardsBulk.inlineLimit = 1
  try {
    const client = await signedIn(admin)
    await client.get('/console/cards?state=pending_activation')
    const byFilter = await postBulk(
      client,
      {
        action: 'freeze',
        reason: 'admin',
        note: '超出上限',
        scope: 'filter',
        state: 'pending_activation',
      },
      []
    )
    t.is(byFilter.status, 302)
    const ticked = await postBulk(
      client,
      { action: 'freeze', reason: 'admin', note: '超出上限' },
      live.slice(0, 2).map((card) => card.publicId)
    )
    t.is(ticked.status, 302)
    const page = await client.get('/console/cards')
    t.regex(page.text, /超过 1 张/)
    const after = await CardModel.query().where('state', 'pending_activation').count('* as total')
    t.is(Number(after[0].$extras.total), live.length)
  } finally {
    quadConfig.cardsBulk.inlineLimit = limit
  }
})

test.serial('extends temporary cards and refuses cards whose type has no window', async (t) => {
  const { DateTime } = await import('luxon')
  const { givenPeople } = await import('./fixtures.js')
  const { IssueCard } = await import('#cards/actions/issue_card')
  const { default: CardModel } = await import('#cards/models/card')
  const more = await givenPeople([
    { no: 'T001', type: 'temporary' },
    { no: 'E001', type: 'teacher' },
  ])
  const from = DateTime.utc().minus({ days: 1 }).set({ millisecond: 0 })
  const issued = await new IssueCard().handle(
    {
      person: { id: more.get('T001')!.id },
      cardType: { code: 'temporary' },
      window: { from, until: from.plus({ days: 10 }) },
    },
    { type: 'system' }
  )
  if (!issued.ok) throw new Error(issued.error)
  for (const [no, person] of more) people.set(no, person)
  const teacher = await cardFor('E001')

  const client = await signedIn(admin)
  await client.get('/console/cards')
  const { schoolZone } = await import('#cards/services/school_zone')
  const zone = await schoolZone()
  const until = DateTime.utc().plus({ days: 30 }).setZone(zone).startOf('minute')
  const response = await postBulk(
    client,
    { action: 'extend', until: until.toFormat("yyyy-MM-dd'T'HH:mm"), note: '延期一个月' },
    [issued.value.publicId, teacher.publicId]
  )
  t.is(response.status, 200)
  t.regex(response.text, /data-done="1"/)
  t.regex(
    response.text,
    new RegExp(`data-card="${teacher.publicId}" data-ok="0" data-error="not_window"`)
  )
  const extended = await CardModel.findOrFail(issued.value.id)
  t.is(extended.validUntil!.toMillis(), until.toMillis())
  t.is(await auditCount('cards.extended', issued.value.publicId), 1)
  t.is(await auditCount('cards.extended', teacher.publicId), 0)
  const cardPage = await client.get(`/console/cards/${issued.value.publicId}`)
  t.is(cardPage.status, 200)
  t.regex(cardPage.text, /有效期延长/)

  await client.get('/console/cards')
  const tooLong = await postBulk(
    client,
    {
      action: 'extend',
      until: DateTime.utc().plus({ days: 400 }).setZone(zone).toFormat("yyyy-MM-dd'T'HH:mm"),
      note: '延期过长',
    },
    [issued.value.publicId]
  )
  t.regex(tooLong.text, /data-error="window_too_long"/)
})
