import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
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

/** Creates the appliance CA unless it exists. Valid for 20 years. */
export function ensureCertificateAuthority(schoolName = 'Quad'): CaInfo {
  if (existsSync(pkiPaths.caCert()) && existsSync(pkiPaths.caKey())) {
    const cert = new X509Certificate(readFileSync(pkiPaths.caCert()))
    return { created: false, subject: cert.subject, fingerprint256: cert.fingerprint256 }
  }
  const keys = rsaKeyPair()
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serialNumber()
  const now = new Date()
  cert.validity.notBefore = new Date(now.getTime() - 60_000)
  cert.validity.notAfter = new Date(now.getTime())
  cert.validity.notAfter.setFullYear(now.getFullYear() + 20)
  const subject = [
    { name: 'commonName', value: `${schoolName} Appliance CA` },
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

/** Splits "quad.school.edu.cn, 10.0.0.5" into DNS names and IP addresses. */
export function parseHostNames(list: string): string[] {
  return [
    ...new Set(
      list
        .split(/[,\s]+/)
        .map((entry) => entry.trim().toLowerCase())
        .filter(Boolean)
    ),
  ]
}

const HOST_NAME =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

/** Returns the entries that are neither a host name nor an IP address. */
export function invalidHostNames(hosts: string[]): string[] {
  return hosts.filter((host) => !isIP(host) && !HOST_NAME.test(host))
}

export interface ServerCertInfo {
  hosts: string[]
  notAfter: string
  fingerprint256: string
}

/**
 * Issues the HTTPS server certificate for the given host names and IPs,
 * signed by the appliance CA, replacing any previous one. Valid 825 days,
 * the longest that browsers accept.
 */
export function issueServerCertificate(hosts: string[]): ServerCertInfo {
  if (hosts.length === 0) throw new Error('At least one host name or IP address is required')
  const bad = invalidHostNames(hosts)
  if (bad.length > 0) throw new Error(`Not a host name or IP address: ${bad.join(', ')}`)
  const ca = loadCa()
  const keys = rsaKeyPair()
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serialNumber()
  const now = new Date()
  cert.validity.notBefore = new Date(now.getTime() - 60_000)
  cert.validity.notAfter = new Date(now.getTime() + 825 * 86_400_000)
  cert.setSubject([{ name: 'commonName', value: hosts[0] }])
  cert.setIssuer(ca.cert.subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hosts.map((host) =>
        isIP(host) ? { type: 7, ip: host } : { type: 2, value: host }
      ),
    },
  ])
  cert.sign(ca.key, forge.md.sha256.create())
  const pem = forge.pki.certificateToPem(cert)
  writePrivateFile(pkiPaths.serverKey(), keys.privateKeyPem)
  writePrivateFile(pkiPaths.serverCert(), pem)
  const parsed = new X509Certificate(pem)
  return { hosts, notAfter: parsed.validTo, fingerprint256: parsed.fingerprint256 }
}

/** Host names the server certificate covers by default. */
export function defaultHostNames(): string[] {
  const configured = process.env.QUAD_HOSTNAMES
  if (configured) return parseHostNames(configured)
  return ['localhost', '127.0.0.1', '::1']
}

/** Issues the server certificate if there is none yet. */
export function ensureServerCertificate(): ServerCertInfo | null {
  if (existsSync(pkiPaths.serverCert()) && existsSync(pkiPaths.serverKey())) return null
  return issueServerCertificate(defaultHostNames())
}
