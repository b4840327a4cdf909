/**
 * One-time use of campus codes on the server: the database guard accepts
 * a code once across verifiers and concurrent requests, records and audits
 * every replay, freezes a card whose codes are replayed too often, and
 * forgets code ids that can no longer verify.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type Person from '#identity/models/person'

let quad: TestApp
let people: Map<string, Person>
let db: typeof import('@adonisjs/lucid/services/db').default

test.before(async () => {
  quad = await bootTestApp({ http: false })
  db = (await import('@adonisjs/lucid/services/db')).default
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople } = await import('./fixtures.js')
  await givenSchool()
  people = await givenPeople([
    { no: 'R001', type: 'teacher', name: '周老师' },
    { no: 'R002', type: 'teacher' },
    { no: 'R003', type: 'teacher' },
    { no: 'R004', type: 'teacher' },
    { no: 'R005', type: 'teacher' },
  ])
})

test.after.always(async () => {
  await quad?.close()
})

async function holder(no: string) {
  const { givenCard, givenHolderDevice } = await import('./code_fixtures.js')
  const card = await givenCard(people.get(no)!.id)
  return { card, device: await givenHolderDevice(card.cardNo) }
}

async function verify(text: string, verifier: string, now?: number) {
  const { verifyCampusCode } = await import('#cards/services/code_verification')
  return verifyCampusCode(text, { verifier, now })
}

async function auditCount(action: string, subjectId: string) {
  const row = await db
    .from('audit_entries')
    .where('action', action)
    .where('subject_id', subjectId)
    .count('* as total')
    .first()
  return Number(row?.total ?? 0)
}

test.serial(
  'a code is accepted once; shown again anywhere it is a replay, recorded and audited',
  async (t) => {
    const { codeOf } = await import('./code_fixtures.js')
    const { card, device } = await holder('R001')
    const text = await codeOf(device)

    const first = await verify(text, 'T-GATE-1')
    t.true(first.result.ok)
    t.is(first.holder?.personName, '周老师')
    t.is(first.holder?.cardPublicId, card.publicId)
    t.is(first.replay, null)
    const codeId = first.result.ok ? first.result.value.codeId : ''
    const seen = await db.from('card_seen_codes').where('code_id', codeId).firstOrFail()
    t.is(Number(seen.card_id), card.id)
    t.is(seen.first_seen_by, 'T-GATE-1')

    for (const verifier of ['T-GATE-1', 'T-POS-7']) {
      const again = await verify(text, verifier)
      t.like(again.result, { ok: false, error: 'code_replayed' })
      t.is(again.holder?.cardPublicId, card.publicId)
      t.deepEqual(again.replay, { recentReplays: verifier === 'T-GATE-1' ? 1 : 2, froze: false })
    }
    const events = await db.from('card_code_replays').where('card_id', card.id).orderBy('id')
    t.deepEqual(
      events.map((event) => [event.code_id, event.verifier, Boolean(event.froze_card)]),
      [
        [codeId, 'T-GATE-1', false],
        [codeId, 'T-POS-7', false],
      ]
    )
    t.is(await auditCount('cards.code_replayed', card.publicId), 2)
    const { default: Card } = await import('#cards/models/card')
    t.is((await Card.findOrFail(card.id)).state, 'pending_activation')

    // A new code of the same device is a different code.
    const next = await verify(await codeOf(device), 'T-GATE-1')
    t.true(next.result.ok)
  }
)

test.serial('twenty verifiers claiming one code at once: exactly one accepts it', async (t) => {
  const { codeOf } = await import('./code_fixtures.js')
  const { DatabaseReplayGuard } = await import('#cards/services/replay_store')
  const { verifyCode } = await import('#cards/campus_code/index')
  const { issuerKeyRing } = await import('#cards/services/issuer_signing')
  const { card, device } = await holder('R002')

  // The guard alone.
  const verified = await verifyCode(await codeOf(device), { issuerKeys: await issuerKeyRing() })
  if (!verified.ok) throw new Error(verified.error)
  const now = Math.floor(Date.now() / 1000)
  const claims = await Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      new DatabaseReplayGuard({ verifier: `T-${index}` }).claim(verified.value, now)
    )
  )
  t.is(claims.filter((claim) => claim.ok).length, 1)
  t.true(claims.filter((claim) => !claim.ok).every((claim) => claim.error === 'code_replayed'))

  // The whole verification: one accepted, the others refused as replays (recorded), or as
  // blacklisted once a replay has frozen the card; the card is frozen once.
  const text = await codeOf(device)
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, index) => verify(text, `T-${index}`))
  )
  const errors = results.map(({ result }) => (result.ok ? 'ok' : result.error))
  t.is(errors.filter((error) => error === 'ok').length, 1)
  const replayed = errors.filter((error) => error === 'code_replayed').length
  t.true(replayed >= 3)
  t.is(replayed + errors.filter((error) => error === 'card_blacklisted').length, 19)
  t.is(results.filter(({ replay }) => replay?.froze).length, 1)
  const events = await db.from('card_code_replays').where('card_id', card.id)
  t.is(events.length, replayed)
  t.is(events.filter((event) => Boolean(event.froze_card)).length, 1)
  t.is(await auditCount('cards.frozen', card.publicId), 1)
})

test.serial('replays freeze the card at the configured count within the window', async (t) => {
  const { codeOf } = await import('./code_fixtures.js')
  const { replayFreezePolicy } = await import('#cards/services/replay_store')
  const { default: Card } = await import('#cards/models/card')
  t.deepEqual(replayFreezePolicy(), { maxReplays: 3, windowSeconds: 600 })

  const { card, device } = await holder('R003')
  const base = Math.floor(Date.now() / 1000)
  /** Accepts a code made at `at`, then shows it again. */
  const replayAt = async (at: number) => {
    const text = await codeOf(device, at)
    t.true((await verify(text, 'T-DOOR-3', at)).result.ok)
    return verify(text, 'T-DOOR-3', at + 5)
  }
  t.deepEqual((await replayAt(base)).replay, { recentReplays: 1, froze: false })
  t.deepEqual((await replayAt(base + 300)).replay, { recentReplays: 2, froze: false })
  // The first replay has left the ten-minute window.
  t.deepEqual((await replayAt(base + 700)).replay, { recentReplays: 2, froze: false })
  t.is((await Card.findOrFail(card.id)).state, 'pending_activation')
  const third = await replayAt(base + 800)
  t.deepEqual(third.replay, { recentReplays: 3, froze: true })
  t.is(third.holder?.cardState, 'frozen')

  const frozen = await Card.findOrFail(card.id)
  t.is(frozen.state, 'frozen')
  t.is(frozen.frozenBy, 'risk')
  t.is(frozen.frozenReason, 'risk')
  const listed = await db
    .from('card_blacklist')
    .where('card_id', card.id)
    .where('kind', 'card')
    .whereNull('removed_version')
    .first()
  t.is(listed?.reason, 'risk')
  // Its codes are now refused as blacklisted, and a further replay freezes nothing again.
  const fresh = await verify(await codeOf(device, base + 810), 'T-DOOR-3', base + 810)
  t.like(fresh.result, { ok: false, error: 'card_blacklisted' })
  t.is(await auditCount('cards.frozen', card.publicId), 1)
})

test.serial('a replay of an unknown card number is recorded without a card', async (t) => {
  const { givenHolderDevice, codeOf } = await import('./code_fixtures.js')
  const device = await givenHolderDevice('999900001111')
  const text = await codeOf(device)
  const first = await verify(text, 'T-1')
  t.true(first.result.ok)
  t.is(first.holder, null)
  const again = await verify(text, 'T-2')
  t.like(again.result, { ok: false, error: 'code_replayed' })
  t.deepEqual(again.replay, { recentReplays: 0, froze: false })
  const event = await db.from('card_code_replays').where('card_no', '999900001111').firstOrFail()
  t.is(event.card_id, null)
  t.is(event.verifier, 'T-2')
})

test.serial(
  'pruning forgets code ids that can no longer verify, and a schedule runs it',
  async (t) => {
    const { codeOf } = await import('./code_fixtures.js')
    const { pruneSeenCodes } = await import('#cards/services/replay_store')
    const { definedSchedules } = await import('#appliance/services/jobs_registry')
    await import('#cards/services/replay_jobs')
    t.true(
      definedSchedules().some(
        (schedule) => schedule.name === 'cards.prune_seen_codes' && schedule.cron === '*/10 * * * *'
      )
    )

    const { device } = await holder('R004')
    const base = Math.floor(Date.now() / 1000)
    const old = await verify(await codeOf(device, base - 100), 'T-1', base - 100)
    const recent = await verify(await codeOf(device, base), 'T-1', base)
    if (!old.result.ok || !recent.result.ok) throw new Error('codes refused')
    const ids = [old.result.value.codeId, recent.result.value.codeId]
    const kept = async () => {
      const rows = await db.from('card_seen_codes').whereIn('code_id', ids).select('code_id')
      return rows.map((row) => row.code_id).sort()
    }

    // The old code verifies until base + 50, the recent one until base + 150 (lifetime 60, skew 90).
    await pruneSeenCodes(base + 50)
    t.deepEqual(await kept(), [...ids].sort())
    t.true((await pruneSeenCodes(base + 51)) >= 1)
    t.deepEqual(await kept(), [recent.result.value.codeId])
    await pruneSeenCodes(base + 151)
    t.deepEqual(await kept(), [])
  }
)

test('the scanned text loses the scanner’s Enter and gets back a leading space the form trimmed', async (t) => {
  const { scannedText } = await import('#cards/services/code_verification')
  const { codeOf, givenHolderDevice } = await import('./code_fixtures.js')
  const text = await codeOf(await givenHolderDevice('260000000017'))
  t.is(text.length, 305)
  t.is(scannedText(`${text}\r\n`), text)
  t.is(scannedText(text), text)
  // A code that began with a space arrives trimmed to 304 characters (3k + 1).
  const trimmed = text.slice(1)
  t.is(scannedText(trimmed), ` ${trimmed}`)
})
