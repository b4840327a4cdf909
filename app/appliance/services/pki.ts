import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { hostname, networkInterfaces } from 'node:os'
import forge from 'node-forge'
import { storagePath, writePrivateFile } from './storage_root.js'

/**
 * The appliance's own certificate authority. It signs the HTTPS server
 * certificate now and terminal client certificates later. Keys are made by
 * OpenSSL (node:crypto); node-forge only assembles the X.509 structures.
 */
export const pkiPaths = {
  caCert: () => storagePath('pki', 'ca.crt'),
  caKey: () => storagePath('pki', 'ca.key'),
  serverCert: () => storagePath('pki', 'server.crt'),
  serverKey: () => storagePath('pki', 'server.key'),
}

function rsaKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  return {
    privateKeyPem: privateKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(publicKey),
  }
}

function serialNumber(): string {
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16)
  bytes[0] = bytes[0] & 0x7f
  return bytes.toString('hex')
}

export interface CaInfo {
  created: boolean
  subject: string
  fingerprint256: string
}

/** The CA as it is on disk, or null before storage:prepare. Creates nothing. */
export function currentCertificateAuthority(): Omit<CaInfo, 'created'> | null {
  if (!existsSync(pkiPaths.caCert()) || !existsSync(pkiPaths.caKey())) return null
  const cert = new X509Certificate(readFileSync(pkiPaths.caCert()))
  return { subject: cert.subject, fingerprint256: cert.fingerprint256 }
}

/**
 * An unsigned certificate for the key, valid from a minute ago (clock skew
 * between the appliance and its clients) until notAfter.
 */
function newCertificate(publicKey: forge.pki.PublicKey, notAfter: Date) {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = serialNumber()
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = notAfter
  return cert
}

/**
 * Creates the appliance CA unless it exists. Valid for 20 years. A short
 * random suffix in its name keeps the CAs of several appliances apart in a
 * browser's certificate list.
 */
export function ensureCertificateAuthority(schoolName = 'Quad'): CaInfo {
  const existing = currentCertificateAuthority()
  if (existing) return { created: false, ...existing }
  const keys = rsaKeyPair()
  const notAfter = new Date()
  notAfter.setFullYear(notAfter.getFullYear() + 20)
  const cert = newCertificate(keys.publicKey, notAfter)
  const subject = [
    { name: 'commonName', value: `${schoolName} Appliance CA ${randomBytes(3).toString('hex')}` },
    { name: 'organizationName', value: 'Quad' },
  ]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  const pem = forge.pki.certificateToPem(cert)
  writePrivateFile(pkiPaths.caKey(), keys.privateKeyPem)
  writePrivateFile(pkiPaths.caCert(), pem)
  const parsed = new X509Certificate(pem)
  return { created: true, subject: parsed.subject, fingerprint256: parsed.fingerprint256 }
}

function loadCa() {
  return {
    cert: forge.pki.certificateFromPem(readFileSync(pkiPaths.caCert(), 'utf8')),
    key: forge.pki.privateKeyFromPem(readFileSync(pkiPaths.caKey(), 'utf8')),
  }
}

/** Lower-case names, and IPv6 addresses in their shortest form ("::1", not "0:0:0:0:0:0:0:1"). */
export function canonicalHost(host: string): string {
  const lower = host.trim().toLowerCase()
  if (isIP(lower) === 6) return new URL(`http://[${lower}]/`).hostname.slice(1, -1)
  return lower
}

/** Splits "quad.school.edu.cn, 10.0.0.5" into DNS names and IP addresses. */
export function parseHostNames(list: string): string[] {
  return [
    ...new Set(
      list
        .split(/[,\s]+/)
        .filter(Boolean)
        .map((entry) => canonicalHost(entry))
    ),
  ]
}

const HOST_NAME =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

/**
 * Returns the entries that are neither a host name nor an IP address. A name
 * whose last label is all digits ("10.0.0") is a mistyped address, not a name.
 */
export function invalidHostNames(hosts: string[]): string[] {
  return hosts.filter((host) => !isIP(host) && (!HOST_NAME.test(host) || /(^|\.)\d+$/.test(host)))
}

export interface ServerCertInfo {
  hosts: string[]
  notAfter: string
  fingerprint256: string
  serialNumber: string
}

/** A server certificate made in memory, not yet written to the storage root. */
export interface NewServerCertificate extends ServerCertInfo {
  keyPem: string
  certPem: string
}

/**
 * Makes an HTTPS server certificate for the given host names and IPs, signed
 * by the appliance CA, without writing it. Valid 825 days, the longest that
 * browsers accept.
 */
export function createServerCertificate(requested: string[]): NewServerCertificate {
  if (requested.length === 0) throw new Error('At least one host name or IP address is required')
  const bad = invalidHostNames(requested)
  if (bad.length > 0) throw new Error(`Not a host name or IP address: ${bad.join(', ')}`)
  const hosts = [...new Set(requested.map(canonicalHost))]
  const ca = loadCa()
  const keys = rsaKeyPair()
  const cert = newCertificate(keys.publicKey, new Date(Date.now() + 825 * 86_400_000))
  cert.setSubject([{ name: 'commonName', value: hosts[0] }])
  cert.setIssuer(ca.cert.subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    // Lets clients pick the right CA when several appliances' CAs are installed.
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes(),
    },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hosts.map((host) =>
        isIP(host) ? { type: 7, ip: host } : { type: 2, value: host }
      ),
    },
  ])
  cert.sign(ca.key, forge.md.sha256.create())
  const certPem = forge.pki.certificateToPem(cert)
  const parsed = new X509Certificate(certPem)
  return {
    hosts,
    notAfter: new Date(parsed.validTo).toISOString(),
    fingerprint256: parsed.fingerprint256,
    serialNumber: parsed.serialNumber,
    keyPem: keys.privateKeyPem,
    certPem,
  }
}

/**
 * Replaces the served certificate. The key goes first: the web process
 * reloads when the certificate file changes, and then finds both in place.
 */
export function installServerCertificate(created: NewServerCertificate): ServerCertInfo {
  writePrivateFile(pkiPaths.serverKey(), created.keyPem)
  writePrivateFile(pkiPaths.serverCert(), created.certPem)
  return {
    hosts: created.hosts,
    notAfter: created.notAfter,
    fingerprint256: created.fingerprint256,
    serialNumber: created.serialNumber,
  }
}

/** Issues and installs the HTTPS server certificate, replacing any previous one. */
export function issueServerCertificate(hosts: string[]): ServerCertInfo {
  return installServerCertificate(createServerCertificate(hosts))
}

/**
 * Host names the server certificate covers by default: QUAD_HOSTNAMES when
 * set; otherwise localhost, this machine's host name, its non-internal IPv4
 * addresses and the loopback addresses. localhost comes first, so the URL
 * printed at start works on the appliance itself.
 */
export function defaultHostNames(): string[] {
  const configured = process.env.QUAD_HOSTNAMES
  if (configured) return parseHostNames(configured)
  const hosts = ['localhost']
  const name = hostname().toLowerCase()
  if (name && invalidHostNames([name]).length === 0) hosts.push(name)
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) hosts.push(address.address)
    }
  }
  hosts.push('127.0.0.1', '::1')
  return [...new Set(hosts)]
}

/** Issues the server certificate if there is none yet. */
export function ensureServerCertificate(): ServerCertInfo | null {
  if (existsSync(pkiPaths.serverCert()) && existsSync(pkiPaths.serverKey())) return null
  return issueServerCertificate(defaultHostNames())
}

export interface ServerCertStatus extends ServerCertInfo {
  notBefore: string
  /** Days until expiry, negative once expired. */
  daysLeft: number
  /** True when the appliance CA on disk signed it. */
  signedByCa: boolean
}

/** Host names and IP addresses in a certificate's subjectAltName. */
export function subjectAltNames(cert: X509Certificate): string[] {
  if (!cert.subjectAltName) return []
  return cert.subjectAltName
    .split(/,\s*/)
    .map((entry) => canonicalHost(entry.replace(/^(DNS|IP Address):/, '')))
    .filter(Boolean)
}

/** The server certificate as it is on disk, or null if there is none. Creates nothing. */
export function currentServerCertificate(): ServerCertStatus | null {
  if (!existsSync(pkiPaths.serverCert()) || !existsSync(pkiPaths.serverKey())) return null
  const cert = new X509Certificate(readFileSync(pkiPaths.serverCert()))
  let signedByCa = false
  if (existsSync(pkiPaths.caCert())) {
    const ca = new X509Certificate(readFileSync(pkiPaths.caCert()))
    signedByCa = cert.checkIssued(ca) && cert.verify(ca.publicKey)
  }
  return {
    hosts: subjectAltNames(cert),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    daysLeft: Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000),
    fingerprint256: cert.fingerprint256,
    signedByCa,
  }
}

/** The same names in any order and case. */
export function sameHosts(a: string[], b: string[]): boolean {
  const left = new Set(a.map(canonicalHost))
  const right = new Set(b.map(canonicalHost))
  return left.size === right.size && [...left].every((host) => right.has(host))
}
