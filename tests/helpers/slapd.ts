/**
 * A private OpenLDAP server for the directory sync tests: Debian's slapd
 * started as the current user on free ports, with its configuration, an mdb
 * database and a TLS certificate from its own throwaway CA in a temporary
 * folder; stopped and removed by `stop()`. It never touches the system's
 * slapd (/etc/ldap/slapd.d, port 389). Install with
 * `apt-get install -y slapd ldap-utils`; bin/quad test does it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestFn } from 'ava'
import forge from 'node-forge'
import { Attribute, Change, Client } from 'ldapts'

export const SLAPD_PATH = process.env.QUAD_SLAPD ?? '/usr/sbin/slapd'
const SCHEMA_DIR = '/etc/ldap/schema'
const MODULE_DIR = '/usr/lib/ldap'
const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis']

export const BASE_DN = 'dc=quad,dc=test'
export const PEOPLE_DN = `ou=people,${BASE_DN}`
const ADMIN_DN = `cn=admin,${BASE_DN}`
const ADMIN_PASSWORD = 'admin-Secret-1'
/** The read-only account a school would give Quad. */
export const SYNC_DN = `cn=quad-sync,${BASE_DN}`
export const SYNC_PASSWORD = 'Sync-Secret-42'

/** Null when slapd can run here, else the reason and how to fix it. */
export function slapdUnavailable(): string | null {
  if (!existsSync(SLAPD_PATH))
    return `slapd not found at ${SLAPD_PATH}: install it with \`apt-get install -y slapd ldap-utils\``
  for (const schema of SCHEMAS)
    if (!existsSync(join(SCHEMA_DIR, `${schema}.schema`)))
      return `the ${schema} schema is missing from ${SCHEMA_DIR}: reinstall slapd`
  if (!existsSync(join(MODULE_DIR, 'back_mdb.so')))
    return `the mdb backend is missing from ${MODULE_DIR}: reinstall slapd`
  return null
}

/**
 * Declares the tests of a file that need slapd, or explains why they cannot
 * run: under CI=true a missing slapd is a failure, elsewhere a visible skip.
 */
export function declareSlapdTests(test: TestFn, declare: () => void) {
  const reason = slapdUnavailable()
  if (!reason) return declare()
  if (process.env.CI === 'true') {
    test('the directory tests can run (slapd)', (t) => {
      t.fail(reason)
    })
  } else {
    test.skip(`directory tests skipped: ${reason}`, () => {})
  }
}

export interface PersonEntry {
  uid: string
  cn: string
  sn?: string
  employeeType?: string
  departmentNumber?: string
  mail?: string
  mobile?: string
  businessCategory?: string
  /** Extra attributes, as given. */
  extra?: Record<string, string | string[]>
}

export interface Slapd {
  /** ldap://127.0.0.1:<port> (plain, StartTLS offered) */
  url: string
  /** ldaps://127.0.0.1:<port> */
  ldapsUrl: string
  /** The PEM of the CA that signed the server's certificate. */
  caPem: string
  /** The DN of a person entry under ou=people. */
  dnOf(uid: string): string
  addPeople(people: PersonEntry[]): Promise<void>
  /** Replaces the given attributes of a person entry. */
  modify(uid: string, attributes: Record<string, string | string[]>): Promise<void>
  remove(uid: string): Promise<void>
  /** Removes every person entry. */
  clearPeople(): Promise<void>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** A CA and a server certificate for 127.0.0.1 and localhost, valid for a day. */
function makeCertificates() {
  const keyOf = () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
    const key = forge.pki.privateKeyFromPem(pem)
    return { pem, key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) }
  }
  const validity = (cert: forge.pki.Certificate, serial: string) => {
    cert.serialNumber = serial
    cert.validity.notBefore = new Date(Date.now() - 60_000)
    cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  }
  const ca = keyOf()
  const caCert = forge.pki.createCertificate()
  caCert.publicKey = ca.publicKey
  validity(caCert, '01')
  const caName = [{ name: 'commonName', value: 'Quad test directory CA' }]
  caCert.setSubject(caName)
  caCert.setIssuer(caName)
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ])
  caCert.sign(ca.key, forge.md.sha256.create())

  const server = keyOf()
  const cert = forge.pki.createCertificate()
  cert.publicKey = server.publicKey
  validity(cert, '02')
  cert.setSubject([{ name: 'commonName', value: 'localhost' }])
  cert.setIssuer(caName)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
      ],
    },
  ])
  cert.sign(ca.key, forge.md.sha256.create())
  return {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: server.pem,
  }
}

function configuration(dir: string) {
  return [
    ...SCHEMAS.map((schema) => `include ${join(SCHEMA_DIR, `${schema}.schema`)}`),
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    `modulepath ${MODULE_DIR}`,
    'moduleload back_mdb',
    `TLSCACertificateFile ${join(dir, 'ca.crt')}`,
    `TLSCertificateFile ${join(dir, 'server.crt')}`,
    `TLSCertificateKeyFile ${join(dir, 'server.key')}`,
    'database mdb',
    `suffix "${BASE_DN}"`,
    `rootdn "${ADMIN_DN}"`,
    `rootpw ${ADMIN_PASSWORD}`,
    `directory ${join(dir, 'db')}`,
    'maxsize 33554432',
    // The sync account reads everything and pages through any number of entries.
    `limits dn.exact="${SYNC_DN}" size=unlimited size.pr=unlimited`,
    'access to attrs=userPassword by self write by anonymous auth by * none',
    `access to * by dn.exact="${SYNC_DN}" read by * none`,
    '',
  ].join('\n')
}

function values(value: string | string[]) {
  return Array.isArray(value) ? value : [value]
}

function personAttributes(person: PersonEntry): Record<string, string | string[]> {
  const attributes: Record<string, string | string[]> = {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
    uid: person.uid,
    cn: person.cn,
    sn: person.sn ?? person.cn.slice(0, 1),
  }
  for (const key of [
    'employeeType',
    'departmentNumber',
    'mail',
    'mobile',
    'businessCategory',
  ] as const) {
    const value = person[key]
    if (value !== undefined) attributes[key] = value
  }
  return { ...attributes, ...person.extra }
}

/**
 * Starts slapd on two free ports (ldap:// and ldaps://), waits until it
 * answers, and seeds the base entry, ou=people and the sync account.
 */
export async function startSlapd(): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'quad-slapd-'))
  mkdirSync(join(dir, 'db'), { mode: 0o700 })
  const certificates = makeCertificates()
  writeFileSync(join(dir, 'ca.crt'), certificates.caPem)
  writeFileSync(join(dir, 'server.crt'), certificates.certPem)
  writeFileSync(join(dir, 'server.key'), certificates.keyPem, { mode: 0o600 })
  writeFileSync(join(dir, 'slapd.conf'), configuration(dir))

  const port = await freePort()
  let securePort = await freePort()
  while (securePort === port) securePort = await freePort()
  const url = `ldap://127.0.0.1:${port}`
  const ldapsUrl = `ldaps://127.0.0.1:${securePort}`

  // -d 0 keeps slapd in the foreground, as a child this process can stop.
  const child: ChildProcess = spawn(
    SLAPD_PATH,
    ['-f', join(dir, 'slapd.conf'), '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'] }
  )
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  let exited = false
  child.once('exit', () => (exited = true))

  const cleanUp = () => rmSync(dir, { recursive: true, force: true })
  const deadline = Date.now() + 15_000
  while (!(await portOpen(port)) || !(await portOpen(securePort))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL')
      cleanUp()
      throw new Error(`slapd did not start on ${url}: ${stderr.trim() || 'no output'}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  const admin = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url, timeout: 10_000, connectTimeout: 10_000 })
    try {
      await client.bind(ADMIN_DN, ADMIN_PASSWORD)
      return await work(client)
    } finally {
      await client.unbind().catch(() => {})
    }
  }

  await admin(async (client) => {
    await client.add(BASE_DN, { objectClass: ['dcObject', 'organization'], dc: 'quad', o: 'Quad' })
    await client.add(PEOPLE_DN, { objectClass: 'organizationalUnit', ou: 'people' })
    await client.add(SYNC_DN, {
      objectClass: ['organizationalRole', 'simpleSecurityObject'],
      cn: 'quad-sync',
      userPassword: SYNC_PASSWORD,
    })
  })

  const dnOf = (uid: string) => `uid=${uid},${PEOPLE_DN}`
  return {
    url,
    ldapsUrl,
    caPem: certificates.caPem,
    dnOf,
    async addPeople(people) {
      await admin(async (client) => {
        for (const person of people) await client.add(dnOf(person.uid), personAttributes(person))
      })
    },
    async modify(uid, attributes) {
      await admin((client) =>
        client.modify(
          dnOf(uid),
          Object.entries(attributes).map(
            ([type, value]) =>
              new Change({
                operation: 'replace',
                modification: new Attribute({ type, values: values(value) }),
              })
          )
        )
      )
    },
    async remove(uid) {
      await admin((client) => client.del(dnOf(uid)))
    },
    async clearPeople() {
      await admin(async (client) => {
        const { searchEntries } = await client.search(PEOPLE_DN, {
          scope: 'one',
          filter: '(objectClass=inetOrgPerson)',
          attributes: ['1.1'],
        })
        for (const entry of searchEntries) await client.del(entry.dn)
      })
    },
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await gone
        clearTimeout(timer)
      }
      cleanUp()
    },
  }
}
