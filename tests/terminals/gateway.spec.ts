/**
 * The terminal gateway over real mutual TLS: enrollment with a one-time
 * code, the certificate as the terminal's identity, revocation, foreign
 * certificates, clock drift, and sync of issuer keys and blacklist deltas.
 */
import test from 'ava'
import { request } from 'node:https'
import { generateKeyPairSync } from 'node:crypto'
import forge from 'node-forge'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import { givenTerminal, startGateway, type TestGateway } from './helpers.js'
import type { SimulatedTerminal } from '#terminals/simulator/terminal'

let quad: TestApp
let gateway: TestGateway
let db: typeof import('@adonisjs/lucid/services/db').default
const opened: SimulatedTerminal[] = []

test.before(async () => {
  quad = await bootTestApp()
  db = (await import('@adonisjs/lucid/services/db')).default
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  gateway = await startGateway()
})

test.after.always(async () => {
  for (const terminal of opened) terminal.close()
  await gateway?.close()
  await quad?.close()
})

async function simulator(options: { clockOffsetMs?: number; trustCa?: boolean } = {}) {
  const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
  const terminal = new SimulatedTerminal({
    baseUrl: gateway.baseUrl,
    caPem: options.trustCa === false ? undefined : gateway.caPem,
    clockOffsetMs: options.clockOffsetMs,
  })
  opened.push(terminal)
  return terminal
}

async function enrolled(kind: 'pos' | 'door' = 'pos', clockOffsetMs?: number) {
  const { publicId, code } = await givenTerminal(kind)
  const terminal = await simulator({ clockOffsetMs })
  await terminal.enroll(code)
  return { publicId, terminal }
}

async function terminalRow(publicId: string) {
  return db.from('terminals').where('public_id', publicId).first()
}

async function auditActions(subjectId: string): Promise<string[]> {
  const rows = await db
    .from('audit_entries')
    .where('subject_id', subjectId)
    .orderBy('seq')
    .select('action')
  return rows.map((row) => row.action)
}

/** A raw request with an arbitrary client certificate (or none). */
function rawRequest(
  path: string,
  tls: { key?: string; cert?: string }
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, gateway.baseUrl),
      { ...tls, ca: gateway.caPem, checkServerIdentity: () => undefined, agent: false },
      (res) => {
        let text = ''
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
        res.on('error', reject)
      }
    )
    req.on('error', reject)
    req.end()
  })
}

test.serial(
  'a terminal enrolls once with its code and is then known by its certificate',
  async (t) => {
    const { publicId, code } = await givenTerminal('pos', 'Canteen till 1')
    const before = await terminalRow(publicId)
    t.is(before.status, 'pending')
    t.regex(code, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/)
    t.not(before.enrollment_code_hash, code, 'only a hash is stored')

    const terminal = await simulator()
    const { terminalId, fingerprint } = await terminal.enroll(code.toLowerCase())
    t.is(terminalId, publicId)
    const after = await terminalRow(publicId)
    t.is(after.status, 'active')
    t.is(after.certificate_fingerprint, fingerprint)
    t.is(after.enrollment_code_hash, null)

    const config = await terminal.fetchConfig()
    t.is(config.terminal.id, publicId)
    t.is(config.terminal.kind, 'pos')
    t.deepEqual(config.offline_limits, {
      count_per_day: 5,
      amount_per_day: 10000,
      single_amount: 3000,
    })
    t.is(config.campus_code.lifetime_seconds, 60)
    t.is(config.campus_code.clock_skew_seconds, 90)

    // The same code a second time: refused, and the first certificate still works.
    const again = await simulator()
    const reuse = await again.client.send('POST', '/t/v1/enroll', {
      enrollment_code: code,
      csr: (await import('#terminals/simulator/terminal')).makeCsr().csrPem,
    })
    t.is(reuse.status, 403)
    t.is(reuse.body.error.code, 'invalid_enrollment_code')
    t.is((await terminal.client.send('GET', '/t/v1/clock')).status, 200)
    t.deepEqual(await auditActions(publicId), ['terminals.created', 'terminals.enrolled'])
  }
)

test.serial('an expired code, a bad CSR and a wrong code are refused', async (t) => {
  const { makeCsr } = await import('#terminals/simulator/terminal')
  const { dbDateTime } = await import('#cards/services/db_time')
  const { publicId, code } = await givenTerminal('gate', 'East gate')
  const terminal = await simulator()

  const badCsr = await terminal.client.send('POST', '/t/v1/enroll', {
    enrollment_code: code,
    csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----',
  })
  t.is(badCsr.status, 422)
  t.is(badCsr.body.error.code, 'invalid_csr')

  const missing = await terminal.client.send('POST', '/t/v1/enroll', { enrollment_code: code })
  t.is(missing.status, 422)
  t.is(missing.body.error.code, 'invalid_request')

  const wrong = await terminal.client.send('POST', '/t/v1/enroll', {
    enrollment_code: '0000-0000-0000-0000',
    csr: makeCsr().csrPem,
  })
  t.is(wrong.status, 403)
  t.is(wrong.body.error.code, 'invalid_enrollment_code')

  await db
    .from('terminals')
    .where('public_id', publicId)
    .update({
      enrollment_expires_at: dbDateTime(DateTime.utc().minus({ seconds: 1 }), db.connection()),
    })
  const expired = await terminal.client.send('POST', '/t/v1/enroll', {
    enrollment_code: code,
    csr: makeCsr().csrPem,
  })
  t.is(expired.status, 403)
  t.is(expired.body.error.code, 'enrollment_code_expired')
  t.is((await terminalRow(publicId)).status, 'pending')

  // A new code from the console works.
  const { newEnrollmentCodeFor } = await import('#terminals/actions/new_enrollment_code')
  const fresh = await newEnrollmentCodeFor({ type: 'system' }, publicId)
  t.true(fresh.ok)
  if (!fresh.ok) return
  await terminal.enroll(fresh.value.enrollmentCode)
  t.is((await terminalRow(publicId)).status, 'active')

  // Re-enrolled on a replacement device: the old certificate is refused from then on.
  const replacementCode = await newEnrollmentCodeFor({ type: 'system' }, publicId)
  if (!replacementCode.ok) return t.fail()
  const replacement = await simulator()
  await replacement.enroll(replacementCode.value.enrollmentCode)
  t.is((await replacement.client.send('GET', '/t/v1/config')).status, 200)
  const old = await terminal.client.send('GET', '/t/v1/config')
  t.is(old.status, 403)
  t.is(old.body.error.code, 'unknown_certificate')
})

test.serial('a terminal may take a PKCS#12 bundle instead of sending a CSR', async (t) => {
  const { publicId, code } = await givenTerminal('kiosk', 'Library kiosk')
  const terminal = await simulator()
  const answer = await terminal.client.call('POST', '/t/v1/enroll', {
    enrollment_code: code,
    pkcs12_password: 'correct horse battery',
  })
  t.is(answer.certificate, null)
  const p12 = forge.pkcs12.pkcs12FromAsn1(
    forge.asn1.fromDer(forge.util.decode64(answer.pkcs12)),
    'correct horse battery'
  )
  const keyBag = p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[
    forge.pki.oids.pkcs8ShroudedKeyBag
  ]![0]
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag]!
  const leaf = certBags.find((bag) => bag.cert!.subject.getField('CN')?.value === publicId)!
  const response = await rawRequest('/t/v1/config', {
    key: forge.pki.privateKeyToPem(keyBag.key!),
    cert: forge.pki.certificateToPem(leaf.cert!),
  })
  t.is(response.status, 200)
  t.is(response.body.terminal.id, publicId)
})

test.serial(
  'no certificate, a certificate of another CA, a revoked terminal: refused',
  async (t) => {
    const { publicId, terminal } = await enrolled('pos')

    const anonymous = await rawRequest('/t/v1/config', {})
    t.is(anonymous.status, 401)
    t.is(anonymous.body.error.code, 'certificate_required')

    // A client certificate signed by a CA the appliance does not know.
    const pair = (bits: number) =>
      generateKeyPairSync('rsa', {
        modulusLength: bits,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      })
    const caKeys = pair(2048)
    const leafKeys = pair(2048)
    const ca = forge.pki.createCertificate()
    ca.publicKey = forge.pki.publicKeyFromPem(caKeys.publicKey)
    ca.serialNumber = '01'
    ca.validity.notBefore = new Date(Date.now() - 60_000)
    ca.validity.notAfter = new Date(Date.now() + 86_400_000)
    ca.setSubject([{ name: 'commonName', value: 'Other CA' }])
    ca.setIssuer([{ name: 'commonName', value: 'Other CA' }])
    ca.setExtensions([{ name: 'basicConstraints', cA: true }])
    ca.sign(forge.pki.privateKeyFromPem(caKeys.privateKey), forge.md.sha256.create())
    const leaf = forge.pki.createCertificate()
    leaf.publicKey = forge.pki.publicKeyFromPem(leafKeys.publicKey)
    leaf.serialNumber = '02'
    leaf.validity.notBefore = ca.validity.notBefore
    leaf.validity.notAfter = ca.validity.notAfter
    leaf.setSubject([{ name: 'commonName', value: publicId }])
    leaf.setIssuer(ca.subject.attributes)
    leaf.sign(forge.pki.privateKeyFromPem(caKeys.privateKey), forge.md.sha256.create())
    await t.throwsAsync(
      rawRequest('/t/v1/config', {
        key: leafKeys.privateKey,
        cert: forge.pki.certificateToPem(leaf),
      }),
      { message: /socket hang up|ECONNRESET|EPIPE|alert/i }
    )

    // Revoked in the console: the very next request on the open connection is refused.
    t.is((await terminal.client.send('GET', '/t/v1/config')).status, 200)
    const { revokeTerminal } = await import('#terminals/actions/revoke_terminal')
    const revoked = await revokeTerminal({ type: 'system' }, publicId, 'stolen')
    t.true(revoked.ok)
    const refused = await terminal.client.send('GET', '/t/v1/config')
    t.is(refused.status, 403)
    t.is(refused.body.error.code, 'terminal_revoked')
    const sync = await terminal.client.send('GET', '/t/v1/sync')
    t.is(sync.body.error.code, 'terminal_revoked')
    t.deepEqual(await auditActions(publicId), [
      'terminals.created',
      'terminals.enrolled',
      'terminals.revoked',
    ])
  }
)

test.serial(
  'a heartbeat records firmware, pending records and clock drift; hours off is skewed',
  async (t) => {
    const good = await enrolled('pos')
    const answer = await good.terminal.heartbeat()
    t.is(answer.clock_status, 'ok')
    t.true(Math.abs(answer.drift_ms) < 5000)
    const row = await terminalRow(good.publicId)
    t.is(row.firmware_version, 'quad-sim 1.0')
    t.is(Number(row.pending_offline_records), 0)
    t.truthy(row.last_seen_at)

    const threeHours = 3 * 3600 * 1000
    const skewed = await enrolled('door', threeHours)
    const flagged = await skewed.terminal.heartbeat()
    t.is(flagged.clock_status, 'skewed')
    t.true(Math.abs(flagged.drift_ms - threeHours) < 5000)
    const skewedRow = await terminalRow(skewed.publicId)
    t.true(Math.abs(Number(skewedRow.clock_drift_ms) - threeHours) < 5000)

    const invalid = await good.terminal.client.send('POST', '/t/v1/heartbeat', {
      terminal_time: 'x',
    })
    t.is(invalid.status, 422)
    t.is(invalid.body.error.code, 'invalid_request')
  }
)

test.serial(
  'sync brings the issuer keys and the blacklist as deltas since a version',
  async (t) => {
    const { givenPeople } = await import('../cards/fixtures.js')
    const { givenCard } = await import('../cards/code_fixtures.js')
    const { ensureIssuerKey } = await import('#appliance/services/issuer_keys')
    const { addToBlacklist, removeFromBlacklist } = await import('#cards/services/blacklist')
    ensureIssuerKey()
    const people = await givenPeople([
      { no: 'T001', type: 'teacher' },
      { no: 'T002', type: 'teacher' },
    ])
    const first = await givenCard(people.get('T001')!.id)
    const second = await givenCard(people.get('T002')!.id)
    const { terminal } = await enrolled('pos')

    const initial = await terminal.sync()
    t.is(initial.issuer_keys.length, 1)
    t.regex(initial.issuer_keys[0].public_key, /^[0-9a-f]{64}$/)
    t.true(initial.issuer_keys[0].current)
    const startVersion = initial.blacklist.version

    await db.transaction(async (trx) => {
      await addToBlacklist(trx, { kind: 'card', cardId: first.id }, 'admin', { type: 'system' })
      await addToBlacklist(trx, { kind: 'card', cardId: second.id }, 'lost', { type: 'system' })
    })
    const delta = await terminal.sync()
    t.is(delta.blacklist.since, startVersion)
    t.is(delta.blacklist.version, startVersion + 2)
    t.deepEqual(
      delta.blacklist.added.map((entry: any) => entry.card_no).sort(),
      [first.cardNo, second.cardNo].sort()
    )
    t.deepEqual(terminal.state.synced.blacklistedCards.sort(), [first.cardNo, second.cardNo].sort())

    await db.transaction((trx) =>
      removeFromBlacklist(trx, { kind: 'card', cardId: first.id }, { type: 'system' })
    )
    const removal = await terminal.sync()
    t.deepEqual(removal.blacklist.added, [])
    t.deepEqual(
      removal.blacklist.removed.map((entry: any) => entry.card_no),
      [first.cardNo]
    )
    t.deepEqual(terminal.state.synced.blacklistedCards, [second.cardNo])

    const nothing = await terminal.client.call(
      'GET',
      `/t/v1/blacklist?since=${removal.blacklist.version}`
    )
    t.deepEqual(nothing.added, [])
    t.deepEqual(nothing.removed, [])
  }
)

test.serial(
  'the reference terminal verifies codes offline: replay cache, limits, blacklist, sequence',
  async (t) => {
    const { givenPeople } = await import('../cards/fixtures.js')
    const { givenCard, givenHolderDevice, codeOf, forged } =
      await import('../cards/code_fixtures.js')
    const { addToBlacklist } = await import('#cards/services/blacklist')
    const people = await givenPeople([
      { no: 'S001', type: 'teacher' },
      { no: 'S002', type: 'teacher' },
    ])
    const card = await givenCard(people.get('S001')!.id)
    const device = await givenHolderDevice(card.cardNo)
    const { terminal } = await enrolled('pos')
    await terminal.fetchConfig()
    await terminal.sync()

    // Card allows 5 a day, ¥100 a day, ¥20 at once; the till 5, ¥100, ¥30.
    const first = await terminal.payOffline(await codeOf(device), 1500)
    t.true(first.ok)
    if (!first.ok) return
    t.is(first.record.sequence, 1)
    t.is(first.record.card_no, card.cardNo)

    const replayed = await terminal.payOffline(first.record.code, 1500)
    t.deepEqual(replayed, { ok: false, error: 'code_replayed', cardNo: card.cardNo })

    const tooBig = await terminal.payOffline(await codeOf(device), 2500)
    t.is(tooBig.ok ? null : tooBig.error, 'offline_single_amount_exceeded')

    for (let i = 0; i < 4; i++) t.true((await terminal.payOffline(await codeOf(device), 100)).ok)
    const sixth = await terminal.payOffline(await codeOf(device), 100)
    t.is(sixth.ok ? null : sixth.error, 'offline_count_exceeded')

    const fake = await terminal.payOffline(await forged(await codeOf(device)), 100)
    t.is(fake.ok ? null : fake.error, 'bad_issuer_signature')

    // Blacklisted after a sync: refused offline.
    const other = await givenCard(people.get('S002')!.id)
    const otherDevice = await givenHolderDevice(other.cardNo)
    await db.transaction((trx) =>
      addToBlacklist(trx, { kind: 'card', cardId: other.id }, 'lost', { type: 'system' })
    )
    await terminal.sync()
    const listed = await terminal.payOffline(await codeOf(otherDevice), 100)
    t.is(listed.ok ? null : listed.error, 'card_blacklisted')

    // A till controls no access point: no access rules, so it opens nothing offline.
    const access = await terminal.accessOffline({ code: await codeOf(device) })
    t.false(access.decision.allowed)
    t.is(access.decision.reason, 'unknown_point')
    t.is(access.record, null)

    t.deepEqual(
      terminal.records.pending().map((record) => record.sequence),
      [1, 2, 3, 4, 5]
    )
    const beat = await terminal.heartbeat()
    t.is(beat.clock_status, 'ok')
    const row = await terminalRow(terminal.state.terminalId!)
    t.is(Number(row.pending_offline_records), 5)
  }
)

test.serial(
  'node ace terminals:serve and node ace terminal:simulate speak the protocol; a revocation reaches the gateway process within 2 s',
  async (t) => {
    const { join } = await import('node:path')
    const { aceEnvironment, runAce } = await import('#tests/helpers/ace')
    const { pkiPaths } = await import('#appliance/services/pki')
    const { serveGatewayProcess } = await import('./helpers.js')
    const { CERTIFICATE_CACHE_MS } = await import('#terminals/services/terminal_auth')
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries({ ...process.env, ...aceEnvironment(quad) }))
      if (value !== undefined) env[key] = value
    const { child, url } = await serveGatewayProcess(env, 60_000)
    try {
      const { publicId, code } = await givenTerminal('checkin', 'Hall check-in')
      const state = join(quad.storage, 'sim-terminal.json')
      const result = await runAce(
        [
          'terminal:simulate',
          '--url',
          url,
          '--code',
          code,
          '--ca',
          pkiPaths.caCert(),
          '--state',
          state,
          '--heartbeats',
          '1',
        ],
        { env: aceEnvironment(quad) }
      )
      t.is(result.code, 0, result.output)
      t.regex(result.output, new RegExp(`Enrolled as terminal ${publicId}`))
      t.regex(result.output, /Heartbeat: clock ok/)
      t.is((await terminalRow(publicId)).status, 'active')

      // Second run: enrolled already (state file), the code is not needed.
      const again = await runAce(
        ['terminal:simulate', '--url', url, '--state', state, '--clock-offset', '7200'],
        {
          env: aceEnvironment(quad),
        }
      )
      t.is(again.code, 0, again.output)
      t.regex(again.output, /clock skewed/)

      // Revoked by this process (the console), not by the gateway's: the gateway
      // learns of it within CERTIFICATE_CACHE_MS, on the same kept-alive connection.
      const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
      const terminal = new SimulatedTerminal({ baseUrl: url, statePath: state })
      opened.push(terminal)
      t.is((await terminal.client.send('GET', '/t/v1/clock')).status, 200)
      const { revokeTerminal } = await import('#terminals/actions/revoke_terminal')
      t.true((await revokeTerminal({ type: 'system' }, publicId, 'stolen')).ok)
      const revokedAt = Date.now()
      let answer = await terminal.client.send('GET', '/t/v1/clock')
      while (answer.status === 200 && Date.now() - revokedAt < 10_000) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        answer = await terminal.client.send('GET', '/t/v1/clock')
      }
      const took = Date.now() - revokedAt
      t.log(`refused ${took} ms after the revocation`)
      t.is(answer.status, 403)
      t.is(answer.body.error.code, 'terminal_revoked')
      // The bound, plus a request's time on a busy machine.
      t.true(took <= CERTIFICATE_CACHE_MS + 1000, `refused after ${took} ms`)
    } finally {
      child.kill('SIGTERM')
    }
  }
)

test.serial(
  'a kept-alive terminal costs one lookup per 2 s; a change the gateway is not told of counts from then',
  async (t) => {
    const { CertificateCache } = await import('#terminals/services/certificate_cache')
    const { CERTIFICATE_CACHE_MS, terminalForCertificate } =
      await import('#terminals/services/terminal_auth')
    const { revokeTerminal } = await import('#terminals/actions/revoke_terminal')
    const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
    // A gateway with a memory of its own, on a clock of the test's: what a gateway
    // process sees of changes made by the console process.
    const clock = { now: 0 }
    let lookups = 0
    const elsewhere = await startGateway({
      certificates: new CertificateCache({
        ttlMs: CERTIFICATE_CACHE_MS,
        clock: () => clock.now,
        lookup: (fingerprint) => {
          lookups += 1
          return terminalForCertificate(fingerprint)
        },
      }),
    })
    try {
      const { publicId, code } = await givenTerminal('pos', 'Library till')
      const terminal = new SimulatedTerminal({ baseUrl: elsewhere.baseUrl, caPem: elsewhere.caPem })
      opened.push(terminal)
      await terminal.enroll(code)
      await terminal.fetchConfig()
      await terminal.heartbeat()
      await terminal.sync()
      for (let index = 0; index < 20; index++) {
        t.is((await terminal.client.send('GET', '/t/v1/clock')).status, 200)
      }
      t.is(lookups, 1, 'one lookup for 23 requests')
      t.truthy((await terminalRow(publicId)).last_seen_at)

      t.true((await revokeTerminal({ type: 'system' }, publicId, 'stolen')).ok)
      t.is(
        (await terminal.client.send('GET', '/t/v1/clock')).status,
        200,
        'still the answer read before the revocation'
      )
      clock.now += CERTIFICATE_CACHE_MS
      const refused = await terminal.client.send('GET', '/t/v1/config')
      t.is(refused.status, 403)
      t.is(refused.body.error.code, 'terminal_revoked')
      t.is(lookups, 2)
    } finally {
      await elsewhere.close()
    }
  }
)

test.serial(
  'the console registers a terminal, shows its code once, lists it and revokes it',
  async (t) => {
    const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
    const admin = await givenAdmin('super_admin')
    const client = new TestClient(quad.baseUrl)
    await signIn(client, admin)

    const form = await client.get('/console/terminals/new')
    t.is(form.status, 200)
    const created = await client.post('/console/terminals', {
      name: 'North canteen till 3',
      kind: 'pos',
      location: 'North canteen, window 3',
      enrollmentHours: '2',
      offlineCountPerDay: '2',
    })
    t.is(created.status, 200, created.text.slice(0, 300))
    const code = created.text.match(/data-testid="enrollment-code">([0-9A-Z-]{19})</)?.[1]
    t.truthy(code)
    t.regex(created.text, /data-testid="ca-fingerprint"/)
    const row = await db.from('terminals').where('name', 'North canteen till 3').first()
    t.is(row.status, 'pending')
    t.is(Number(row.offline_count_per_day), 2)

    // The terminal enrolls with the code it was shown and gets its limits.
    const terminal = await simulator()
    await terminal.enroll(code!)
    const config = await terminal.fetchConfig()
    t.deepEqual(config.offline_limits, {
      count_per_day: 2,
      amount_per_day: 10000,
      single_amount: 3000,
    })
    await terminal.heartbeat()

    const list = await client.get('/console/terminals?kind=pos&status=online')
    t.is(list.status, 200)
    t.regex(list.text, new RegExp(`data-public-id="${row.public_id}" data-connection="online"`))
    const offline = await client.get('/console/terminals?status=offline')
    t.notRegex(offline.text, new RegExp(row.public_id))
    const search = await client.get('/console/terminals?q=window%203')
    t.regex(search.text, new RegExp(row.public_id))

    const show = await client.get(`/console/terminals/${row.public_id}`)
    t.is(show.status, 200)
    t.regex(show.text, /data-status="active"/)

    // Edit the terminal's overrides, and the defaults of its kind.
    t.is((await client.get(`/console/terminals/${row.public_id}/edit`)).status, 200)
    const edited = await client.post(`/console/terminals/${row.public_id}`, {
      name: 'North canteen till 3',
      location: 'North canteen, window 4',
      offlineCountPerDay: '',
    })
    t.is(edited.status, 302)
    t.is((await client.get('/console/terminals/offline-limits')).status, 200)
    const limitsForm: Record<string, string> = {}
    for (const kind of ['pos', 'gate', 'door', 'checkin', 'kiosk']) {
      limitsForm[`${kind}[countPerDay]`] = kind === 'pos' ? '4' : '0'
      limitsForm[`${kind}[amountPerDay]`] = kind === 'pos' ? '8000' : '0'
      limitsForm[`${kind}[singleAmount]`] = kind === 'pos' ? '2500' : '0'
    }
    const savedLimits = await client.post('/console/terminals/offline-limits', limitsForm)
    t.is(savedLimits.status, 302)
    t.is(savedLimits.location, '/console/terminals/offline-limits')
    const limitsNow = await terminal.fetchConfig()
    t.deepEqual(limitsNow.offline_limits, {
      count_per_day: 4,
      amount_per_day: 8000,
      single_amount: 2500,
    })

    const revoked = await client.post(`/console/terminals/${row.public_id}/revoke`, {
      reason: 'lost',
    })
    t.is(revoked.status, 302)
    t.is((await terminal.client.send('GET', '/t/v1/config')).body.error.code, 'terminal_revoked')
    const again = await client.post(`/console/terminals/${row.public_id}/enrollment-code`, {})
    t.is(again.status, 302)
    const audit = await db
      .from('audit_entries')
      .where('subject_id', row.public_id)
      .orderBy('seq')
      .select('action', 'actor_type')
    t.deepEqual(
      audit.map((entry) => `${entry.actor_type}:${entry.action}`),
      [
        'user:terminals.created',
        'terminal:terminals.enrolled',
        'user:terminals.updated',
        'user:terminals.revoked',
      ]
    )

    // Without terminals.manage: refused.
    const officer = await givenAdmin('card_office')
    const other = new TestClient(quad.baseUrl)
    await signIn(other, officer)
    t.is((await other.get('/console/terminals')).status, 403)
  }
)
