/**
 * The portal's card page over HTTP: activation with a device key made by the
 * campus-code library (as a phone does), credential renewal, a new phone
 * replacing the old one, the holder's loss report, and what is refused: a
 * wrong proof, a frozen card, someone else's card. Codes made with the
 * credentials are accepted by the server-side verifier.
 */
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenPerson } from '../portal/fixtures.js'

let quad: TestApp
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_PORTAL_LOGIN_RATE_LIMIT: '1000' } })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const { ensureIssuerKey } = await import('#appliance/services/issuer_keys')
  ensureIssuerKey()
})

test.after.always(async () => {
  await quad?.close()
})

const cc = () => import('#cards/campus_code/index')

/** A person with a student card pending activation, signed in to the portal. */
async function holder() {
  const { givenPerson, portalSignIn } = await import('../portal/fixtures.js')
  const { IssueCard } = await import('#cards/actions/issue_card')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const given: GivenPerson = await givenPerson()
  const issued = await new IssueCard().handle(
    { person: { id: given.person.id }, cardType: { code: 'student' } },
    SYSTEM_ACTOR
  )
  if (!issued.ok) throw new Error(issued.error)
  const client = new TestClient(quad.baseUrl)
  await portalSignIn(client, given)
  const page = await client.get('/portal/card')
  if (page.status !== 200) throw new Error(`card page: ${page.status}`)
  return { given, client, card: issued.value }
}

function postJson(client: TestClient, path: string, body: unknown) {
  return client.request('POST', path, {
    body: JSON.stringify(body),
    headers: {
      'content-type': 'application/json',
      'accept': 'application/json',
      'x-csrf-token': client.csrfToken ?? '',
    },
  })
}

type Keys = Awaited<ReturnType<Awaited<ReturnType<typeof cc>>['generateDeviceKeys']>>

/** Challenge, proof and the activation or renewal request, as the page script does it. */
async function requestCredential(
  client: TestClient,
  kind: 'activate' | 'credential',
  keys: Keys,
  options: { card?: string; proveWith?: Keys } = {}
) {
  const { proveDeviceKey, toBase64Url } = await cc()
  const challenged = await postJson(client, '/portal/card/challenge', { card: options.card })
  if (challenged.status !== 200) return challenged
  const { challenge } = challenged.json<{ challenge: string }>()
  const proof = await proveDeviceKey(
    (options.proveWith ?? keys).privateKey,
    new TextEncoder().encode(challenge)
  )
  return postJson(client, `/portal/card/${kind}`, {
    card: options.card,
    publicKey: toBase64Url(keys.publicKey),
    challenge,
    proof: toBase64Url(proof),
    label: 'Test phone',
  })
}

async function accept(text: string, guard?: unknown) {
  const { acceptCode, MemoryReplayGuard } = await cc()
  const { issuerKeyRing } = await import('#cards/services/issuer_signing')
  return acceptCode(text, {
    issuerKeys: await issuerKeyRing(),
    replayGuard: (guard as InstanceType<typeof MemoryReplayGuard>) ?? new MemoryReplayGuard(),
  })
}

async function devicesOf(cardId: number) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db.from('card_devices').where('card_id', cardId).orderBy('id').select('*')
}

test.serial(
  'activation binds the device key and returns a credential codes verify with',
  async (t) => {
    const {
      generateDeviceKeys,
      decodeCredential,
      fromBase64Url,
      makeCode,
      toHex,
      MemoryReplayGuard,
    } = await cc()
    const { client, card } = await holder()
    const page = await client.get('/portal/card')
    t.regex(page.text, /data-card-page/)
    t.regex(page.text, /data-state="pending_activation"/)
    t.regex(page.text, /src="\/js\/card_page\.js/)

    const keys = await generateDeviceKeys()
    const response = await requestCredential(client, 'activate', keys)
    t.is(response.status, 200, response.text)
    const answer = response.json()
    t.is(answer.state, 'active')
    t.is(answer.refreshSeconds, 30)
    const decoded = decodeCredential(fromBase64Url(answer.credential))
    if (!decoded.ok) return t.fail(decoded.error)
    t.is(decoded.value.cardNo, card.cardNo)
    t.is(toHex(decoded.value.devicePublicKey), toHex(keys.publicKey))
    t.true(decoded.value.validUntil - decoded.value.issuedAt <= 7 * 86400)
    t.true(decoded.value.validUntil > decoded.value.issuedAt + 6 * 86400)
    // The student card type's campus-code policy is signed in.
    t.deepEqual(decoded.value.permissions, ['payment', 'access', 'sign_in'])
    t.deepEqual(decoded.value.offlineLimits, {
      maxCountPerDay: 5,
      maxAmountPerDayFen: 10_000,
      maxSingleAmountFen: 3_000,
    })
    t.true(Math.abs(answer.serverTime - Date.now() / 1000) < 5)

    const { default: Card } = await import('#cards/models/card')
    t.is((await Card.findOrFail(card.id)).state, 'active')
    const devices = await devicesOf(card.id)
    t.is(devices.length, 1)
    t.is(devices[0].public_key, toHex(keys.publicKey))
    t.is(devices[0].label, 'Test phone')
    t.is(devices[0].revoked_at, null)

    const { auditOf } = await import('../portal/fixtures.js')
    const actions = (await auditOf(card.publicId)).map((entry) => entry.action)
    t.true(actions.includes('cards.activated'))
    t.true(actions.includes('cards.device_activated'))
    const entry = (await auditOf(card.publicId)).find(
      (each) => each.action === 'cards.device_activated'
    )!
    t.is(entry.actorType, 'person')

    const guard = new MemoryReplayGuard()
    const code = await makeCode(fromBase64Url(answer.credential), keys.privateKey, { counter: 1 })
    const accepted = await accept(code.text, guard)
    t.true(accepted.ok)
    if (accepted.ok) t.is(accepted.value.cardNo, card.cardNo)
    const again = await accept(code.text, guard)
    t.false(again.ok)
    if (!again.ok) t.is(again.error, 'code_replayed')
    const next = await makeCode(fromBase64Url(answer.credential), keys.privateKey, { counter: 2 })
    t.true((await accept(next.text, guard)).ok)

    const page2 = await client.get('/portal/card')
    t.regex(page2.text, /data-state="active"/)
  }
)

test.serial(
  'renewal gives the same device a fresh credential; a new phone replaces the old',
  async (t) => {
    const { generateDeviceKeys, fromBase64Url, makeCode, toHex } = await cc()
    const { client, card } = await holder()
    const first = await generateDeviceKeys()
    t.is((await requestCredential(client, 'activate', first)).status, 200)

    const renewed = await requestCredential(client, 'credential', first)
    t.is(renewed.status, 200, renewed.text)
    const code = await makeCode(fromBase64Url(renewed.json().credential), first.privateKey, {
      counter: 5,
    })
    t.true((await accept(code.text)).ok)

    // A key that is not the card's device cannot renew.
    const stranger = await generateDeviceKeys({ implementation: 'software' })
    const refused = await requestCredential(client, 'credential', stranger)
    t.is(refused.status, 409)
    t.is(refused.json().error, 'unknown_device')

    // Activating on a second phone (software signer) revokes the first.
    const second = await generateDeviceKeys({ implementation: 'software' })
    const moved = await requestCredential(client, 'activate', second)
    t.is(moved.status, 200, moved.text)
    const devices = await devicesOf(card.id)
    t.is(devices.length, 2)
    t.is(devices[0].public_key, toHex(first.publicKey))
    t.truthy(devices[0].revoked_at)
    t.is(devices[0].revoked_reason, 'replaced')
    t.is(devices[1].public_key, toHex(second.publicKey))
    t.is(devices[1].revoked_at, null)
    const oldRenewal = await requestCredential(client, 'credential', first)
    t.is(oldRenewal.status, 409)
    t.is(oldRenewal.json().error, 'unknown_device')
    const secondCode = await makeCode(fromBase64Url(moved.json().credential), second.privateKey, {
      counter: 1,
    })
    t.true((await accept(secondCode.text)).ok)

    // The old phone still holds a valid credential: its key is on the
    // blacklist, so the server and every synced terminal refuse its codes.
    const { verifyCampusCode } = await import('#cards/services/code_verification')
    const { blacklistSince, retireSpentDeviceEntries } = await import('#cards/services/blacklist')
    const oldCode = await makeCode(fromBase64Url(renewed.json().credential), first.privateKey, {
      counter: 6,
    })
    const refusedOld = await verifyCampusCode(oldCode.text, { verifier: 'test' })
    t.false(refusedOld.result.ok)
    if (!refusedOld.result.ok) t.is(refusedOld.result.error, 'card_blacklisted')
    const newCode = await makeCode(fromBase64Url(moved.json().credential), second.privateKey, {
      counter: 2,
    })
    t.true((await verifyCampusCode(newCode.text, { verifier: 'test' })).result.ok)
    const delta = await blacklistSince(0)
    const listed = delta.added.find((entry) => entry.deviceKey === toHex(first.publicKey))
    t.truthy(listed)
    t.is(listed?.kind, 'device')
    t.is(listed?.reason, 'replaced')
    t.is(listed?.cardNo, card.cardNo)
    // Once every credential the old phone could hold has expired, it leaves the list.
    const { DateTime } = await import('luxon')
    t.is(await retireSpentDeviceEntries(DateTime.utc().plus({ days: 6 })), 0)
    t.is(await retireSpentDeviceEntries(DateTime.utc().plus({ days: 8 })), 1)
    const after = await blacklistSince(listed!.version)
    t.true(after.removed.some((entry) => entry.deviceKey === toHex(first.publicKey)))

    const { auditOf } = await import('../portal/fixtures.js')
    const actions = (await auditOf(card.publicId)).map((entry) => entry.action)
    t.is(actions.filter((action) => action === 'cards.device_activated').length, 2)
    t.is(actions.filter((action) => action === 'cards.credential_renewed').length, 1)
    t.is(actions.filter((action) => action === 'cards.activated').length, 1)
  }
)

test.serial('a holder of two cards switches between them on the card page', async (t) => {
  const { client, card, given } = await holder()
  const { IssueCard } = await import('#cards/actions/issue_card')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  // A second kind of card anyone may hold, such as a library card.
  const { SaveCardType } = await import('#cards/actions/save_card_type')
  const saved = await new SaveCardType().handle(
    {
      code: 'library',
      nameZh: '图书馆卡',
      nameEn: 'Library card',
      identityTypes: [],
      audience: null,
      validity: { kind: 'none' },
      face: {
        title: '',
        colors: { background: '#114477', text: '#FFFFFF', accent: '#FFCC00' },
        fields: { name: true, photo: false, number: true, org: false, type: true, validity: false },
      },
      enabled: true,
      sortOrder: 900,
    },
    { mode: 'create' },
    SYSTEM_ACTOR
  )
  if (!saved.ok) return t.fail(saved.error)
  const temporary = await new IssueCard().handle(
    { person: { id: given.person.id }, cardType: { code: 'library' } },
    SYSTEM_ACTOR
  )
  if (!temporary.ok) return t.fail(temporary.error)
  const first = await client.get('/portal/card')
  t.regex(first.text, /data-testid="card-switcher"/)
  t.regex(first.text, new RegExp(`data-card="${card.publicId}"`), 'the first card by type order')
  t.regex(first.text, new RegExp(`data-card-option="${temporary.value.publicId}"`))
  const second = await client.get(`/portal/card?card=${temporary.value.publicId}`)
  t.regex(second.text, new RegExp(`data-card="${temporary.value.publicId}"`))
  t.regex(second.text, new RegExp(`href="/portal/card\\?card=${card.publicId}"`))
  // Someone else's card, or nonsense, shows the holder's own first card.
  const stranger = await holder()
  const foreign = await client.get(`/portal/card?card=${stranger.card.publicId}`)
  t.regex(foreign.text, new RegExp(`data-card="${card.publicId}"`))
  const nonsense = await client.get('/portal/card?card=%3Cscript%3E')
  t.is(nonsense.status, 200)
  t.regex(nonsense.text, new RegExp(`data-card="${card.publicId}"`))
  // A holder of one card sees no switcher.
  t.notRegex((await stranger.client.get('/portal/card')).text, /data-testid="card-switcher"/)
})

test.serial(
  'a wrong proof, a challenge of another card or no CSRF token are refused',
  async (t) => {
    const { generateDeviceKeys, proveDeviceKey, toBase64Url } = await cc()
    const { client, card } = await holder()
    const keys = await generateDeviceKeys()
    const other = await generateDeviceKeys()
    const wrong = await requestCredential(client, 'activate', keys, { proveWith: other })
    t.is(wrong.status, 400)
    t.is(wrong.json().error, 'bad_proof')

    // A challenge made for another session does not pass.
    const otherHolder = await holder()
    const foreign = await postJson(otherHolder.client, '/portal/card/challenge', {})
    const { challenge } = foreign.json<{ challenge: string }>()
    const proof = await proveDeviceKey(keys.privateKey, new TextEncoder().encode(challenge))
    const replayed = await postJson(client, '/portal/card/activate', {
      publicKey: toBase64Url(keys.publicKey),
      challenge,
      proof: toBase64Url(proof),
    })
    t.is(replayed.status, 400)

    const noToken = await client.request('POST', '/portal/card/challenge', {
      body: '{}',
      headers: { 'content-type': 'application/json', 'accept': 'application/json' },
    })
    t.not(noToken.status, 200)

    const { default: Card } = await import('#cards/models/card')
    t.is((await Card.findOrFail(card.id)).state, 'pending_activation')
    t.is((await devicesOf(card.id)).length, 0)
  }
)

test.serial("someone else's card cannot be activated, renewed or reported lost", async (t) => {
  const { generateDeviceKeys } = await cc()
  const owner = await holder()
  const intruder = await holder()
  const keys = await generateDeviceKeys()
  const activation = await requestCredential(intruder.client, 'activate', keys, {
    card: owner.card.publicId,
  })
  t.is(activation.status, 404)
  const renewal = await requestCredential(intruder.client, 'credential', keys, {
    card: owner.card.publicId,
  })
  t.is(renewal.status, 404)
  await intruder.client.get('/portal/card')
  const frozen = await intruder.client.post('/portal/card/freeze', { card: owner.card.publicId })
  t.is(frozen.status, 302)
  const { default: Card } = await import('#cards/models/card')
  t.is((await Card.findOrFail(owner.card.id)).state, 'pending_activation')
  t.is((await devicesOf(owner.card.id)).length, 0)
})

test.serial(
  'the holder reports the card lost: frozen, listed, and no more credentials',
  async (t) => {
    const { generateDeviceKeys } = await cc()
    const { client, card } = await holder()
    const keys = await generateDeviceKeys()
    t.is((await requestCredential(client, 'activate', keys)).status, 200)

    await client.get('/portal/card')
    const response = await client.post('/portal/card/freeze', { note: '手机丢在食堂' })
    t.is(response.status, 302)
    t.is(response.location, '/portal/card')
    const page = await client.get('/portal/card')
    const { flashOf, auditOf } = await import('../portal/fixtures.js')
    t.is(flashOf(page.text, 'notice'), '已挂失，此卡已冻结。')
    t.regex(page.text, /data-testid="card-unusable"/)
    t.notRegex(page.text, /data-code-panel/)

    const { default: Card } = await import('#cards/models/card')
    const frozen = await Card.findOrFail(card.id)
    t.is(frozen.state, 'frozen')
    t.is(frozen.frozenBy, 'holder')
    t.is(frozen.frozenReason, 'lost')
    t.is(frozen.frozenNote, '手机丢在食堂')
    const { default: db } = await import('@adonisjs/lucid/services/db')
    t.truthy(await db.from('card_blacklist').where('card_id', card.id).first())
    const entry = (await auditOf(card.publicId)).find((each) => each.action === 'cards.frozen')!
    t.is(entry.actorType, 'person')

    const renewal = await requestCredential(client, 'credential', keys)
    t.is(renewal.status, 409)
    t.is(renewal.json().error, 'card_not_usable')
    const activation = await requestCredential(client, 'activate', keys)
    t.is(activation.status, 409)
    t.is(activation.json().state, 'frozen')
  }
)

test.serial(
  'the home tile links to the card page; a person without a card is told so',
  async (t) => {
    const { givenPerson, portalSignIn } = await import('../portal/fixtures.js')
    const given = await givenPerson()
    const client = new TestClient(quad.baseUrl)
    await portalSignIn(client, given)
    const home = await client.get('/portal')
    t.regex(home.text, /href="\/portal\/card"/)
    const page = await client.get('/portal/card')
    t.is(page.status, 200)
    t.regex(page.text, /data-testid="card-none"/)
    const challenge = await postJson(client, '/portal/card/challenge', {})
    t.is(challenge.status, 404)
    const anonymous = new TestClient(quad.baseUrl)
    const redirected = await anonymous.get('/portal/card')
    t.is(redirected.status, 302)
    t.regex(redirected.location ?? '', /^\/portal\/login/)
  }
)

test('the committed QR encoder bundle is what its build script makes', (t) => {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >
  const script = scripts['build:qr-encoder']
  t.truthy(script, 'package.json has the build:qr-encoder script')
  const scratch = mkdtempSync(join(tmpdir(), 'quad-qr-encoder-'))
  try {
    const outfile = join(scratch, 'qr_encoder.js')
    const rebuilt = script.replace('--outfile=public/js/qr_encoder.js', `--outfile=${outfile}`)
    t.not(rebuilt, script, 'the script writes public/js/qr_encoder.js')
    const run = spawnSync(
      'sh',
      ['-c', rebuilt.replace(/^esbuild /, 'node_modules/.bin/esbuild ')],
      {
        cwd: ROOT,
        encoding: 'utf8',
      }
    )
    t.is(run.status, 0, run.stderr)
    t.is(
      readFileSync(join(ROOT, 'public/js/qr_encoder.js'), 'utf8'),
      readFileSync(outfile, 'utf8'),
      'run npm run build:qr-encoder and commit public/js/qr_encoder.js'
    )
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
})
