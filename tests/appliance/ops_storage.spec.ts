import test from 'ava'
import { createHash, X509Certificate } from 'node:crypto'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { aceEnvironment, runAce } from '#tests/helpers/ace'

let quad: TestApp
const scratch: string[] = []

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
  await quad?.close()
})

/** A storage root that does not exist yet, with the test app's database. */
function freshStorageEnv() {
  const parent = mkdtempSync(join(tmpdir(), 'quad-ops-'))
  scratch.push(parent)
  const storage = join(parent, 'storage')
  return { storage, env: { ...aceEnvironment(quad), QUAD_STORAGE: storage } }
}

/** Every file and folder under a root with its permission bits and a hash of its contents. */
function snapshot(root: string): Map<string, string> {
  const entries = new Map<string, string>()
  const walk = (dir: string) => {
    entries.set(relative(root, dir) || '.', `d ${(statSync(dir).mode & 0o777).toString(8)}`)
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name)
      if (name.isDirectory()) walk(path)
      else {
        const digest = createHash('sha256').update(readFileSync(path)).digest('hex')
        entries.set(relative(root, path), `${(statSync(path).mode & 0o777).toString(8)} ${digest}`)
      }
    }
  }
  walk(root)
  return entries
}

async function auditActions(action: string) {
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  return AuditEntry.query().where('action', action).orderBy('seq')
}

const SECRET_FILES = [
  'keys/app.key',
  'pki/ca.key',
  'pki/ca.crt',
  'pki/server.key',
  'pki/server.crt',
  'keys/issuer/current',
]

test.serial('storage:prepare creates private folders, keys and certificates', async (t) => {
  const { storage, env } = freshStorageEnv()
  const result = await runAce(['storage:prepare'], { env })
  t.is(result.code, 0, result.output)

  const entries = snapshot(storage)
  for (const folder of [
    '.',
    'db',
    'keys',
    'keys/issuer',
    'pki',
    'uploads',
    'backups',
    'logs',
    'tmp',
  ])
    t.is(entries.get(folder), 'd 700', `${folder} is private to the Quad user`)
  for (const file of SECRET_FILES) t.regex(entries.get(file) ?? '', /^600 /, `${file} is mode 0600`)
  const kid = readFileSync(join(storage, 'keys/issuer/current'), 'utf8').trim()
  t.regex(entries.get(`keys/issuer/${kid}.key`) ?? '', /^600 /)
  const issuerKey = readFileSync(join(storage, `keys/issuer/${kid}.key`), 'utf8')
  t.regex(issuerKey, /BEGIN PRIVATE KEY/)
  const { createPrivateKey } = await import('node:crypto')
  t.is(createPrivateKey(issuerKey).asymmetricKeyType, 'ed25519')

  const ca = new X509Certificate(readFileSync(join(storage, 'pki/ca.crt')))
  t.true(ca.ca)
  t.true(result.output.includes(ca.fingerprint256), 'prints the CA fingerprint')
  t.true(result.output.includes(kid), 'prints the issuer key id')
  t.regex(result.output, /created\s+app key/)
  t.regex(result.output, /created\s+appliance CA/)

  const server = new X509Certificate(readFileSync(join(storage, 'pki/server.crt')))
  t.true(server.verify(ca.publicKey), 'the server certificate is signed by the CA')
  t.is(server.checkHost('localhost'), 'localhost')
  t.is(server.checkIP('127.0.0.1'), '127.0.0.1')

  const [entry] = await auditActions('appliance.storage_prepared')
  t.truthy(entry, 'the new keys are in the audit log')
  t.is(entry.actorType, 'system')
  t.regex(entry.actorName ?? '', /^operator:/)
  t.false((entry.after ?? '').includes('PRIVATE KEY'), 'no key material in the audit log')
})

test.serial('storage:prepare run again keeps every key and tightens loosened modes', async (t) => {
  const { storage, env } = freshStorageEnv()
  t.is((await runAce(['storage:prepare'], { env })).code, 0)
  const before = snapshot(storage)
  const auditedBefore = (await auditActions('appliance.storage_prepared')).length

  const again = await runAce(['storage:prepare'], { env })
  t.is(again.code, 0, again.output)
  t.deepEqual(snapshot(storage), before, 'nothing is created or rewritten')
  t.notRegex(again.output, /created|renewed/)
  t.regex(again.output, /kept\s+appliance CA/)
  t.is((await auditActions('appliance.storage_prepared')).length, auditedBefore)

  chmodSync(join(storage, 'pki/ca.key'), 0o644)
  const third = await runAce(['storage:prepare'], { env })
  t.is(third.code, 0)
  t.is(statSync(join(storage, 'pki/ca.key')).mode & 0o777, 0o600)
  t.regex(third.output, /fixed\s+appliance CA/)
  t.deepEqual(snapshot(storage), before)
})

test.serial('storage:prepare --hosts reissues the certificate only for new names', async (t) => {
  const { storage, env } = freshStorageEnv()
  t.is(
    (await runAce(['storage:prepare', '--hosts', 'quad.school.edu.cn,10.0.0.5'], { env })).code,
    0
  )
  const first = new X509Certificate(readFileSync(join(storage, 'pki/server.crt')))
  t.is(first.checkHost('quad.school.edu.cn'), 'quad.school.edu.cn')
  t.is(first.checkHost('localhost'), undefined)

  await runAce(['storage:prepare', '--hosts', '10.0.0.5, QUAD.school.edu.cn'], { env })
  const same = new X509Certificate(readFileSync(join(storage, 'pki/server.crt')))
  t.is(same.fingerprint256, first.fingerprint256, 'the same names in another order keep it')

  const bad = await runAce(['storage:prepare', '--hosts', 'quad_school,10.0.0'], { env })
  t.is(bad.code, 1)
  t.regex(bad.output, /Not a host name or IP address: quad_school, 10\.0\.0/)
})

test.serial(
  'certificate:issue issues a certificate for the names given, signed by the CA',
  async (t) => {
    const env = aceEnvironment(quad)
    t.is((await runAce(['storage:prepare'], { env })).code, 0)
    const ca = new X509Certificate(readFileSync(join(quad.storage, 'pki/ca.crt')))

    const result = await runAce(
      ['certificate:issue', '--hosts', 'quad.school.edu.cn, 10.0.0.5, ::1'],
      {
        env,
      }
    )
    t.is(result.code, 0, result.output)
    const cert = new X509Certificate(readFileSync(join(quad.storage, 'pki/server.crt')))
    t.is(cert.checkHost('quad.school.edu.cn'), 'quad.school.edu.cn')
    t.is(cert.checkIP('10.0.0.5'), '10.0.0.5')
    t.is(cert.checkIP('::1'), '::1')
    t.is(cert.checkHost('localhost'), undefined, 'only the names asked for')
    t.is(cert.checkHost('evil.example.com'), undefined)
    t.true(cert.checkIssued(ca))
    t.true(cert.verify(ca.publicKey))
    t.false(cert.ca)
    t.regex(result.output, /quad\.school\.edu\.cn, 10\.0\.0\.5, ::1/)
    t.true(result.output.includes(new Date(cert.validTo).toISOString()), 'prints the expiry')

    const entries = await auditActions('appliance.certificate_issued')
    const last = entries.at(-1)
    t.truthy(last)
    t.is(last?.subjectId, cert.serialNumber)
    t.regex(last?.actorName ?? '', /^operator:/)
    t.deepEqual(JSON.parse(last?.after ?? '{}').hosts, ['quad.school.edu.cn', '10.0.0.5', '::1'])
  }
)

test.serial(
  'certificate:issue refuses names that are not host names and keeps the certificate',
  async (t) => {
    const env = aceEnvironment(quad)
    const before = readFileSync(join(quad.storage, 'pki/server.crt'), 'utf8')
    const result = await runAce(
      ['certificate:issue', '--hosts', 'quad.school.edu.cn,https://quad.school.edu.cn,10.0.0'],
      { env }
    )
    t.is(result.code, 1)
    t.regex(
      result.output,
      /Not a host name or IP address: https:\/\/quad\.school\.edu\.cn, 10\.0\.0/
    )
    t.is(readFileSync(join(quad.storage, 'pki/server.crt'), 'utf8'), before)
  }
)

function httpsGet(port: number, options: { ca?: Buffer; servername?: string } = {}) {
  return new Promise<{ status: number; body: string; fingerprint: string }>((resolve, reject) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/healthz',
        servername: options.servername ?? 'localhost',
        ca: options.ca,
        agent: false,
      },
      (response) => {
        let body = ''
        const fingerprint = (response.socket as import('node:tls').TLSSocket).getPeerCertificate()
          .fingerprint256
        response.on('data', (chunk) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, fingerprint }))
      }
    )
    request.on('error', reject)
    request.end()
  })
}

test.serial(
  'the HTTPS server presents a certificate that verifies against the appliance CA, and picks up a new one',
  async (t) => {
    const env = aceEnvironment(quad)
    t.is((await runAce(['certificate:issue', '--hosts', 'localhost,127.0.0.1'], { env })).code, 0)
    const { createQuadServer } = await import('#appliance/services/https_server')
    const adonisServer = await quad.app.container.make('server')
    await adonisServer.boot()
    process.env.QUAD_TLS = 'true'
    const server = createQuadServer(adonisServer.handle.bind(adonisServer), {
      certificateCheckMs: 50,
    })
    process.env.QUAD_TLS = 'false'
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const ca = readFileSync(join(quad.storage, 'pki/ca.crt'))

    const answer = await httpsGet(port, { ca })
    t.is(answer.status, 200)
    t.deepEqual(JSON.parse(answer.body), { status: 'ok' })

    const untrusted = await t.throwsAsync(httpsGet(port))
    t.regex(String((untrusted as NodeJS.ErrnoException)?.code), /CERT|SIGNATURE|ISSUER/)
    await t.throwsAsync(httpsGet(port, { ca, servername: 'other.example.com' }), {
      message: /altnames/i,
    })

    t.is(
      (await runAce(['certificate:issue', '--hosts', 'localhost,quad.school.edu.cn'], { env }))
        .code,
      0
    )
    const renewed = new X509Certificate(readFileSync(join(quad.storage, 'pki/server.crt')))
    let served = ''
    for (let attempt = 0; attempt < 40 && served !== renewed.fingerprint256; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      served =
        (await httpsGet(port, { ca, servername: 'quad.school.edu.cn' }).catch(() => null))
          ?.fingerprint ?? ''
    }
    t.is(
      served,
      renewed.fingerprint256,
      'new connections get the new certificate without a restart'
    )
  }
)

test.serial('appliance:status summarises storage, certificate, CA and issuer key', async (t) => {
  const result = await runAce(['appliance:status'], { env: aceEnvironment(quad) })
  t.is(result.code, 0, result.output)
  const ca = new X509Certificate(readFileSync(join(quad.storage, 'pki/ca.crt')))
  const kid = readFileSync(join(quad.storage, 'keys/issuer/current'), 'utf8').trim()
  t.regex(result.output, /not set up yet/)
  t.regex(result.output, /migrations\s+up to date/)
  t.regex(result.output, /writable/)
  t.regex(result.output, /localhost, quad\.school\.edu\.cn/)
  t.true(result.output.includes(ca.fingerprint256))
  t.true(result.output.includes(kid))

  const json = await runAce(['appliance:status', '--json'], { env: aceEnvironment(quad) })
  const status = JSON.parse(json.stdout)
  t.is(status.issuerKid, kid)
  t.true(status.certificate.signedByCa)
  t.deepEqual(status.problems, [])
})
