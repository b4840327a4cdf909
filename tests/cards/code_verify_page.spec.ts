/**
 * The card office's scan-to-verify page over HTTP: a scanned code shows
 * whose it is and whether it is valid, each refusal with its reason, and
 * replays land in the replay list; without cards.read nothing opens.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'

let quad: TestApp
let officer: GivenAdmin
let auditor: GivenAdmin
let people: Map<string, Person>

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople, givenAccount } = await import('./fixtures.js')
  await givenSchool()
  officer = await givenAccount('card_office')
  auditor = await givenAccount('auditor')
  people = await givenPeople([
    { no: 'V001', type: 'teacher', name: '孙老师' },
    { no: 'V002', type: 'teacher', name: '钱老师' },
  ])
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

/** Scans a code on the page as a keyboard-wedge scanner does (text, then Enter). */
async function scan(client: TestClient, text: string) {
  await client.get('/console/card-verify')
  const posted = await client.post('/console/card-verify', { code: `${text}\r\n` })
  if (posted.status !== 302) throw new Error(`verify answered ${posted.status}`)
  const page = await client.follow(posted)
  const result = /data-testid="verify-result" data-ok="(\w+)" data-error="(\w*)"/.exec(page.text)
  const reason = /data-testid="verify-reason">([^<]*)</.exec(page.text)
  const name = /data-testid="verify-name">([^<]*)</.exec(page.text)
  const personNo = /data-testid="verify-person-no">([^<]*)</.exec(page.text)
  return {
    page,
    ok: result?.[1] === 'true',
    error: result?.[2] ?? null,
    reason: reason?.[1]?.trim() ?? null,
    name: name?.[1] ?? null,
    personNo: personNo?.[1] ?? null,
  }
}

test.serial('without cards.read the page and the replay list are refused', async (t) => {
  const client = await signedIn(auditor)
  t.is((await client.get('/console/card-verify')).status, 403)
  t.is((await client.get('/console/card-replays')).status, 403)
  await client.get('/console')
  t.is((await client.post('/console/card-verify', { code: 'ABC' })).status, 403)
  const anonymous = new TestClient(quad.baseUrl)
  t.regex((await anonymous.get('/console/card-verify')).location ?? '', /\/login$/)
})

test.serial('a valid code shows its holder; scanned again it is a replay', async (t) => {
  const { givenCard, givenHolderDevice, codeOf } = await import('./code_fixtures.js')
  const card = await givenCard(people.get('V001')!.id)
  const device = await givenHolderDevice(card.cardNo)
  const client = await signedIn(officer)

  const page = await client.get('/console/card-verify')
  t.is(page.status, 200)
  t.regex(page.text, /<input id="field-code" name="code" type="text" autofocus/)
  t.notRegex(page.text, /data-testid="verify-result"/)

  const text = await codeOf(device)
  const valid = await scan(client, text)
  t.true(valid.ok)
  t.is(valid.name, '孙老师')
  t.is(valid.personNo, 'V001')
  t.regex(valid.page.text, /data-testid="verify-card-type">教师卡</)
  t.regex(valid.page.text, /计算机学院/)

  const again = await scan(client, text)
  t.false(again.ok)
  t.is(again.error, 'code_replayed')
  t.is(again.reason, '校园码已被使用：这是截图或复制的码，已记录本次重复使用。')
  t.is(again.name, '孙老师')
  t.regex(again.page.text, /data-testid="verify-replays"/)

  // The replay list shows it, by card number and by day.
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const event = await db.from('card_code_replays').where('card_id', card.id).firstOrFail()
  t.is(event.verifier, `console:${officer.username}`)
  const list = await client.get(`/console/card-replays?q=${card.cardNo}`)
  t.is(list.status, 200)
  t.is([...list.text.matchAll(/data-testid="replay-row"/g)].length, 1)
  t.regex(list.text, /孙老师/)
  const { DateTime } = await import('luxon')
  const today = DateTime.now().setZone('Asia/Shanghai').toISODate()
  const tomorrow = DateTime.now().setZone('Asia/Shanghai').plus({ days: 1 }).toISODate()
  const byDay = await client.get(`/console/card-replays?from=${today}&to=${today}`)
  t.is([...byDay.text.matchAll(/data-testid="replay-row"/g)].length, 1)
  const later = await client.get(`/console/card-replays?from=${tomorrow}`)
  t.is([...later.text.matchAll(/data-testid="replay-row"/g)].length, 0)
  const bad = await client.get('/console/card-replays?from=yesterday')
  t.is(bad.status, 302)
})

test.serial(
  'forged, expired and malformed codes and a frozen card each show their reason',
  async (t) => {
    const { givenCard, givenHolderDevice, codeOf, forged, nowSeconds } =
      await import('./code_fixtures.js')
    const card = await givenCard(people.get('V002')!.id)
    const device = await givenHolderDevice(card.cardNo)
    const client = await signedIn(officer)

    const forgery = await scan(client, await forged(await codeOf(device)))
    t.is(forgery.error, 'bad_issuer_signature')
    t.is(forgery.reason, '伪造或被篡改：学校签名不符。')
    // A forged card number is never shown as someone's.
    t.is(forgery.name, null)

    const old = await scan(client, await codeOf(device, nowSeconds() - 600))
    t.is(old.error, 'code_expired')
    t.is(old.reason, '校园码已过期（可能是截图），请持卡人刷新后再扫。')
    t.is(old.name, '钱老师')

    const garbage = await scan(client, 'NOT A CODE')
    t.is(garbage.error, 'malformed')
    t.is(garbage.reason, '不是校园码，请重新扫码。')

    const { FreezeCard } = await import('#cards/actions/freeze_card')
    const frozen = await new FreezeCard().handle(
      { card: { id: card.id }, by: 'admin', reason: 'admin', note: '核验测试冻结' },
      { type: 'system' }
    )
    t.true(frozen.ok)
    const refused = await scan(client, await codeOf(device))
    t.is(refused.error, 'card_blacklisted')
    t.is(refused.reason, '卡片不可用：已冻结、挂失或注销。')
    t.is(refused.name, '钱老师')
    t.regex(refused.page.text, /data-testid="verify-card-state">已冻结</)

    // In English, the same refusal in English.
    client.setCookie('quad_locale', 'en')
    const english = await scan(client, await forged(await codeOf(device)))
    t.is(english.error, 'bad_issuer_signature')
    t.is(english.reason, 'Forged or altered: the school&#x27;s signature does not match.')
  }
)
