import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp
let auditor: TestClient
let operator: TestClient
let superAdmin: TestClient

/** The fixture entries, by name, with the seq each one got. */
const seqs: Record<string, number> = {}

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  await givenSchool({ timeZone: 'Asia/Shanghai' })
  auditor = new TestClient(quad.baseUrl)
  operator = new TestClient(quad.baseUrl)
  superAdmin = new TestClient(quad.baseUrl)
  await signIn(auditor, await givenAdmin('auditor', { username: 'auditor.wang' }))
  await signIn(operator, await givenAdmin('operator'))
  await signIn(superAdmin, await givenAdmin('super_admin'))

  // Entries at known times: 15:00 UTC on 1 March is 23:00 in Shanghai, 17:30 UTC is
  // already 2 March there.
  const { recordAudit } = await import('#core/services/audit')
  const at = async (iso: string, record: () => Promise<{ seq: number }>) => {
    const { Settings } = await import('luxon')
    const millis = Date.parse(iso)
    Settings.now = () => millis
    try {
      return Number((await record()).seq)
    } finally {
      Settings.now = () => Date.now()
    }
  }
  seqs.lisiLogin = await at('2026-03-01T15:00:00Z', () =>
    recordAudit(
      { type: 'user', id: 'U-LISI', name: 'lisi', ip: '10.20.0.5' },
      { action: 'auth.login', subjectType: 'user', subjectId: 'U-LISI' }
    )
  )
  seqs.failedLogin = await at('2026-03-01T17:30:00Z', () =>
    recordAudit(
      { type: 'anonymous', ip: '203.0.113.9' },
      { action: 'auth.login_failed', outcome: 'failure', meta: { username: 'zhangsan' } }
    )
  )
  seqs.csrf = await at('2026-03-02T02:00:00Z', () =>
    recordAudit(
      { type: 'anonymous', ip: '198.51.100.4' },
      { action: 'security.csrf_rejected', outcome: 'denied', meta: { path: '/setup' } }
    )
  )
  seqs.voided = await at('2026-03-03T04:00:00Z', () =>
    recordAudit(
      { type: 'system', name: 'system' },
      {
        action: 'fees.bill_voided',
        subjectType: 'bill',
        subjectId: 'B-2026-0042',
        before: { status: 'open', amount: '1200.00', student: '李雷' },
        after: { status: 'void', amount: '1200.00', student: '李雷' },
      }
    )
  )
  seqs.formula = await at('2026-03-03T05:00:00Z', () =>
    recordAudit(
      { type: 'api', name: '=HYPERLINK("http://evil.example","x")', ip: '10.0.0.1' },
      { action: 'auth.login_failed', outcome: 'failure', subjectId: '+8613800000000' }
    )
  )
})

test.after.always(async () => {
  await quad?.close()
})

async function db() {
  const { default: database } = await import('@adonisjs/lucid/services/db')
  return database
}

/** The seq numbers of the rows on a list page, in page order. */
function rowSeqs(html: string): number[] {
  return [...html.matchAll(/data-testid="audit-row" data-seq="(\d+)"/g)].map((m) => Number(m[1]))
}

/**
 * The response as bytes. TestClient hands back decoded text, and decoding
 * UTF-8 drops a byte order mark, which is what these tests look for.
 */
async function rawGet(client: TestClient, path: string) {
  const cookie = (client as unknown as { cookieHeader(): string }).cookieHeader()
  return fetch(quad.baseUrl + path, { headers: { cookie } })
}

/** A small RFC 4180 reader, enough for the export (a leading BOM is skipped). */
function parseCsv(input: string): string[][] {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (char === '"') quoted = false
      else cell += char
    } else if (char === '"') quoted = true
    else if (char === ',') {
      row.push(cell)
      cell = ''
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += char
  }
  return rows
}

test.serial('sends anonymous visitors to the sign-in page', async (t) => {
  const client = new TestClient(quad.baseUrl)
  for (const path of [
    '/console/audit',
    `/console/audit/${seqs.csrf}`,
    '/console/audit/export.csv',
  ]) {
    const response = await client.get(path)
    t.is(response.status, 302, path)
    t.is(response.location, '/login', path)
  }
})

test.serial('an operator can neither read nor export the audit log', async (t) => {
  const exports = async () =>
    Number(
      (
        await (await db()).from('audit_entries').where('action', 'audit.exported').count('* as n')
      )[0].n
    )
  const before = await exports()
  for (const path of [
    '/console/audit',
    `/console/audit/${seqs.csrf}`,
    '/console/audit/export.csv',
  ]) {
    const response = await operator.get(path)
    t.is(response.status, 403, path)
    t.notRegex(response.text, /B-2026-0042|203\.0\.113\.9/, path)
  }
  const dashboard = await operator.get('/console')
  t.notRegex(dashboard.text, /href="\/console\/audit"/)
  t.is(await exports(), before, 'a refused export writes no export entry')
})

test.serial('an auditor sees the log newest first, with labels, actors and outcomes', async (t) => {
  const page = await auditor.get('/console/audit')
  t.is(page.status, 200)
  const order = rowSeqs(page.text)
  t.deepEqual(
    order,
    [...order].sort((a, b) => b - a)
  )
  t.true(order.includes(seqs.voided))
  t.regex(page.text, /<a href="\/console\/audit" class="active">/)
  t.notRegex(
    page.text,
    /<a href="\/console" class="active">/,
    'only the audit entry is highlighted'
  )
  t.regex(page.text, /登录失败/)
  t.regex(page.text, /203\.0\.113\.9/)
  t.regex(page.text, /lisi/)
  t.regex(page.text, /data-outcome="denied">已拒绝</)
  // An action without a translation is shown by its key.
  t.regex(page.text, /<a href="\/console\/audit\/\d+">fees\.bill_voided<\/a>/)
  // Times are shown in the school's zone: 15:00 UTC is 23:00 in Shanghai.
  t.regex(page.text, /2026-03-01 23:00:00/)
  t.regex(page.text, /data-testid="audit-export"/)
})

test.serial('the activity chart is an accessible SVG of the last 14 days', async (t) => {
  const page = await auditor.get('/console/audit')
  const chart = /<figure class="chart"[\s\S]*?<\/figure>/.exec(page.text)?.[0] ?? ''
  t.regex(
    chart,
    /<svg class="chart-svg chart--bar"[^>]*role="img"[^>]*aria-label="柱状图：近 14 天每日记录数/
  )
  const rows = [...chart.matchAll(/<th scope="row">(\d{2}-\d{2})<\/th>/g)].map((m) => m[1])
  t.is(rows.length, 14)
  const { DateTime } = await import('luxon')
  t.is(rows.at(-1), DateTime.now().setZone('Asia/Shanghai').toFormat('MM-dd'))
  // Today holds at least the three sign-ins of this file's setup.
  const today = new RegExp(`<th scope="row">${rows.at(-1)}</th>\\s*<td>(\\d+) 条</td>`)
  t.true(Number(today.exec(chart)?.[1]) >= 3)
  t.regex(
    chart,
    /<rect class="chart-bar chart-series-0"[^>]*><title>\d{2}-\d{2}: \d+ 条<\/title><\/rect>/
  )
  t.regex(chart, /<table class="visually-hidden">/)
})

test.serial('filters by outcome, module, exact action, actor type and search', async (t) => {
  const list = async (query: string) => rowSeqs((await auditor.get(`/console/audit?${query}`)).text)

  // Other modules add denied entries of their own (refused pages): compare with the database.
  const denied = await (
    await db()
  )
    .from('audit_entries')
    .where('outcome', 'denied')
    .orderBy('seq', 'desc')
    .limit(50)
  t.deepEqual(
    await list('outcome=denied'),
    denied.map((row) => Number(row.seq))
  )
  t.true((await list('outcome=denied')).includes(seqs.csrf))
  t.deepEqual(await list('outcome=failure'), [seqs.formula, seqs.failedLogin])
  const authModule = await list('action=auth')
  t.true(authModule.includes(seqs.lisiLogin) && authModule.includes(seqs.failedLogin))
  t.false(authModule.includes(seqs.csrf))
  // "auth.login" is one action: it does not take in auth.login_failed.
  const logins = await list('action=auth.login')
  t.true(logins.includes(seqs.lisiLogin))
  t.false(logins.includes(seqs.failedLogin))
  t.deepEqual(await list('actor=system'), [seqs.voided])
  t.deepEqual(await list('q=B-2026'), [seqs.voided])
  t.deepEqual(await list('q=LISI'), [seqs.lisiLogin])
  t.deepEqual(await list('q=bill_voided'), [seqs.voided])
  // A LIKE wildcard in the search is a literal character.
  t.deepEqual(await list('q=login%25failed'), [])
  t.deepEqual(await list('q=auth.login_failed&outcome=failure&action=auth&actor=anonymous'), [
    seqs.failedLogin,
  ])
  // Empty fields, as the filter form sends them, mean "no filter".
  t.true((await list('q=&action=&outcome=&actor=&from=&to=')).length > 5)

  const filtered = await auditor.get('/console/audit?outcome=denied')
  t.regex(filtered.text, /<option value="denied" selected>/)
  t.regex(filtered.text, /aria-label="柱状图：近 14 天每日记录数 · 共 \d+ 条 · 按当前筛选条件统计/)
  t.regex(filtered.text, /href="\/console\/audit\/export\.csv\?outcome=denied"/)
})

test.serial('date filters are whole days in the school time zone', async (t) => {
  const list = async (query: string) => rowSeqs((await auditor.get(`/console/audit?${query}`)).text)
  t.deepEqual(await list('from=2026-03-01&to=2026-03-01'), [seqs.lisiLogin])
  t.deepEqual(await list('from=2026-03-02&to=2026-03-02'), [seqs.csrf, seqs.failedLogin])
  t.deepEqual(await list('from=2026-03-03&to=2026-03-03'), [seqs.formula, seqs.voided])
  t.deepEqual(await list('to=2026-03-01'), [seqs.lisiLogin])
  t.deepEqual(await list('from=2026-03-04&to=2026-03-31'), [])
})

test.serial('refuses invalid filters and starts again without them', async (t) => {
  for (const query of [
    'outcome=hacked',
    'from=2026-02-30',
    'action=DROP%20TABLE',
    'page=0',
    'q=' + 'x'.repeat(101),
  ]) {
    const response = await auditor.get(`/console/audit?${query}`)
    t.is(response.status, 302, query)
    t.is(response.location, '/console/audit', query)
  }
  const page = await auditor.get('/console/audit')
  t.regex(page.text, /筛选条件无效/)
})

test.serial('shows 50 entries a page and keeps the filters on the pager', async (t) => {
  const { recordAudit } = await import('#core/services/audit')
  const database = await db()
  await database.transaction(async (trx) => {
    for (let i = 0; i < 60; i++) {
      await recordAudit(
        { type: 'terminal', id: `T${i}`, name: `gate-${i}` },
        { action: 'terminals.heartbeat', meta: { i } },
        trx
      )
    }
  })
  const first = await auditor.get('/console/audit?actor=terminal')
  const firstRows = rowSeqs(first.text)
  t.is(firstRows.length, 50)
  t.regex(first.text, /第 1–50 条，共 60 条/)
  t.regex(first.text, /href="\/console\/audit\?actor=terminal&amp;page=2" rel="next"/)
  const second = await auditor.get('/console/audit?actor=terminal&page=2')
  const secondRows = rowSeqs(second.text)
  t.is(secondRows.length, 10)
  t.true(Math.min(...firstRows) > Math.max(...secondRows))
})

test.serial(
  'the entry page shows every field, the change side by side and the chain',
  async (t) => {
    const page = await auditor.get(`/console/audit/${seqs.voided}`)
    t.is(page.status, 200)
    t.regex(page.text, new RegExp(`审计记录 #${seqs.voided}`))
    t.regex(page.text, /B-2026-0042/)
    t.regex(page.text, /2026-03-03 12:00:00/)
    const before = /data-testid="audit-before">([\s\S]*?)<\/pre>/.exec(page.text)?.[1] ?? ''
    const after = /data-testid="audit-after">([\s\S]*?)<\/pre>/.exec(page.text)?.[1] ?? ''
    t.regex(before, /\n {2}&quot;status&quot;: &quot;open&quot;,/)
    t.regex(after, /\n {2}&quot;status&quot;: &quot;void&quot;,/)
    t.regex(page.text, /data-testid="changed-keys">变更字段：status</)

    const row = await (await db()).from('audit_entries').where('seq', seqs.voided).firstOrFail()
    t.regex(page.text, new RegExp(`data-testid="audit-hash">${row.hash}<`))
    t.regex(page.text, new RegExp(`data-testid="audit-prev-hash">${row.prev_hash}<`))
    t.regex(page.text, /data-testid="hash-check" data-ok="true"/)
    t.regex(page.text, /data-testid="link-check" data-ok="true"/)
    t.regex(page.text, new RegExp(`href="/console/audit/${seqs.csrf}" rel="prev"`))
    t.regex(page.text, new RegExp(`href="/console/audit/${seqs.formula}" rel="next"`))

    const english = new TestClient(quad.baseUrl)
    const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
    await signIn(english, await givenAdmin('auditor'))
    await english.get('/lang/en?back=/console')
    const inEnglish = await english.get(`/console/audit/${seqs.failedLogin}`)
    t.regex(inEnglish.text, /Audit entry #/)
    t.regex(inEnglish.text, /Sign-in failed/)
  }
)

test.serial('an unknown or malformed entry number answers 404', async (t) => {
  t.is((await auditor.get('/console/audit/99999999')).status, 404)
  t.is((await auditor.get('/console/audit/12abc')).status, 404)
  t.is((await auditor.get('/console/audit/99999999999999999999')).status, 404)
})

test.serial(
  'exports the filtered log as UTF-8 CSV with a BOM and a translated header',
  async (t) => {
    const response = await auditor.get('/console/audit/export.csv?outcome=failure')
    t.is(response.status, 200)
    t.regex(response.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/)
    t.regex(
      response.headers.get('content-disposition') ?? '',
      /^attachment; filename="audit-SCMU-\d{8}-\d{6}\.csv"$/
    )
    t.is(response.headers.get('cache-control'), 'no-store')
    // Streamed: the length is not known in advance.
    t.is(response.headers.get('content-length'), null)
    t.is(response.headers.get('transfer-encoding'), 'chunked')

    const bytes = new Uint8Array(
      await (await rawGet(auditor, '/console/audit/export.csv')).arrayBuffer()
    )
    t.deepEqual([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf])
    const [header, ...rows] = parseCsv(response.text)
    t.deepEqual(header.slice(0, 3), ['序号', '时间（Asia/Shanghai）', '操作人类型'])
    t.true(header.includes('操作'))
    t.deepEqual(
      rows.map((row) => Number(row[0])),
      [seqs.formula, seqs.failedLogin]
    )
    const failed = rows.find((row) => Number(row[0]) === seqs.failedLogin)!
    t.is(failed[1], '2026-03-02 01:30:00')
    t.is(failed[2], '匿名')
    t.is(failed[7], 'auth.login_failed')
    t.is(failed[8], '登录失败')
    t.is(failed[11], '失败')
    t.is(failed[14], '{"username":"zhangsan"}')
    const stored = await (
      await db()
    )
      .from('audit_entries')
      .where('seq', seqs.failedLogin)
      .firstOrFail()
    t.is(failed[16], stored.hash)
  }
)

test.serial('neutralises cells that a spreadsheet would run as formulas', async (t) => {
  const response = await auditor.get(`/console/audit/export.csv?q=${encodeURIComponent('+86138')}`)
  const rows = parseCsv(response.text).slice(1)
  t.is(rows.length, 1)
  t.is(rows[0][4], `'=HYPERLINK("http://evil.example","x")`)
  t.is(rows[0][10], "'+8613800000000")
})

test.serial('records each export, with its filters, outside the file it produces', async (t) => {
  const database = await db()
  const response = await superAdmin.get('/console/audit/export.csv?action=auth&from=2026-03-01')
  t.is(response.status, 200)
  const entry = await database
    .from('audit_entries')
    .where('action', 'audit.exported')
    .orderBy('seq', 'desc')
    .firstOrFail()
  t.is(entry.actor_type, 'user')
  t.is(entry.outcome, 'success')
  const meta = JSON.parse(entry.meta)
  t.deepEqual(meta.filters, { action: 'auth', from: '2026-03-01' })
  t.is(meta.format, 'csv')
  const exported = parseCsv(response.text)
    .slice(1)
    .map((row) => Number(row[0]))
  t.false(exported.includes(Number(entry.seq)))
  t.true(exported.every((seq) => seq < Number(entry.seq)))

  const list = await auditor.get('/console/audit?action=audit')
  t.true(rowSeqs(list.text).includes(Number(entry.seq)))
  t.regex(list.text, /导出审计日志/)
  const { verifyAuditChain } = await import('#core/services/audit_verify')
  t.true((await verifyAuditChain()).ok)
})

test.serial('the CSV header follows the reader language', async (t) => {
  const client = new TestClient(quad.baseUrl)
  const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  await signIn(client, await givenAdmin('auditor'))
  await client.get('/lang/en?back=/console')
  const response = await client.get(
    '/console/audit/export.csv?outcome=denied&action=security.csrf_rejected'
  )
  const [header, row] = parseCsv(response.text)
  t.deepEqual(header.slice(0, 3), ['No.', 'Time (Asia/Shanghai)', 'Actor type'])
  t.is(row[8], 'Form with an invalid CSRF token refused')
  t.is(row[11], 'Denied')
})

test.serial('a large export is produced a batch at a time', async (t) => {
  const { auditCsvChunks } = await import('#core/services/audit_csv')
  const { recordAudit } = await import('#core/services/audit')
  const database = await db()
  // More than two of the export's batches of 1000.
  await database.transaction(async (trx) => {
    for (let i = 0; i < 2100; i++) {
      await recordAudit(
        { type: 'api', name: 'bulk' },
        { action: 'cards.issued', subjectId: `C${i}` },
        trx
      )
    }
  })
  const head = await database.from('audit_heads').where('id', 1).firstOrFail()
  const sizes: number[] = []
  for await (const chunk of auditCsvChunks(
    { action: 'cards.issued' },
    {
      zone: 'Asia/Shanghai',
      upToSeq: Number(head.seq),
      t: (key, _data, fallback) => fallback ?? key,
      batchSize: 500,
    }
  )) {
    sizes.push(chunk.split('\r\n').length - 1)
  }
  // The header, then one chunk per batch: nothing holds more than one batch.
  t.deepEqual(sizes, [1, 500, 500, 500, 500, 100])

  // Over HTTP the batches leave as they are read, not as one body at the end.
  const response = await rawGet(auditor, '/console/audit/export.csv?action=cards.issued')
  t.is(response.headers.get('transfer-encoding'), 'chunked')
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let reads = 0
  let text = ''
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    reads += 1
    text += decoder.decode(part.value, { stream: true })
  }
  t.true(reads >= 2, `${reads} reads`)
  t.is(parseCsv(text).length, 2101)
})
