import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import forge from 'node-forge'
import { pkiPaths } from '#appliance/services/pki'
import { fail, ok, type Result } from '#core/services/result'

/** Terminal client certificates are valid this long; re-enrollment replaces them. */
export const TERMINAL_CERTIFICATE_DAYS = 825

export interface IssuedTerminalCertificate {
  certificatePem: string
  caCertificatePem: string
  serialNumber: string
  /** SHA-256 of the certificate DER, lower-case hex without colons. */
  fingerprint: string
  notAfter: Date
}

export type CsrError = 'invalid_csr' | 'unsupported_key'

/** "AB:CD:…" (node's fingerprint256) → "abcd…". */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toLowerCase()
}

/** SHA-256 fingerprint of a PEM or DER certificate, lower-case hex. */
export function certificateFingerprint(certificate: string | Buffer): string {
  return normalizeFingerprint(new X509Certificate(certificate).fingerprint256)
}

export function caCertificatePem(): string {
  return readFileSync(pkiPaths.caCert(), 'utf8')
}

function loadCa() {
  return {
    pem: caCertificatePem(),
    cert: forge.pki.certificateFromPem(caCertificatePem()),
    key: forge.pki.privateKeyFromPem(readFileSync(pkiPaths.caKey(), 'utf8')),
  }
}

function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = bytes[0] & 0x7f
  return bytes.toString('hex')
}

/**
 * Parses a PKCS#10 request (PEM). RSA keys of 2048 to 4096 bits only: the
 * request's own signature must verify (proof that the terminal holds the key).
 */
export function parseCsr(pem: string): Result<forge.pki.rsa.PublicKey, CsrError> {
  let csr: forge.pki.CertificateSigningRequest
  try {
    csr = forge.pki.certificationRequestFromPem(pem)
  } catch (error) {
    const message = error instanceof Error ? error.message : ''
    return fail(/OID is not RSA/i.test(message) ? 'unsupported_key' : 'invalid_csr')
  }
  if (!csr.publicKey) return fail('invalid_csr')
  const publicKey = csr.publicKey as forge.pki.rsa.PublicKey
  const bits = publicKey.n.bitLength()
  if (bits < 2048 || bits > 4096) return fail('unsupported_key', { bits })
  if (!csr.verify()) return fail('invalid_csr', { reason: 'signature' })
  return ok(publicKey)
}

/**
 * A client certificate for a terminal, signed by the appliance CA. The
 * subject is the terminal's public id; whatever the request asked for as
 * subject or extensions is ignored.
 */
export function issueTerminalCertificate(
  publicKey: forge.pki.PublicKey,
  terminal: { publicId: string; kind: string },
  now = new Date()
): IssuedTerminalCertificate {
  const ca = loadCa()
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = serialNumber()
  cert.validity.notBefore = new Date(now.getTime() - 60_000)
  cert.validity.notAfter = new Date(now.getTime() + TERMINAL_CERTIFICATE_DAYS * 86_400_000)
  cert.setSubject([
    { name: 'commonName', value: terminal.publicId },
    { name: 'organizationalUnitName', value: `terminal-${terminal.kind}` },
    { name: 'organizationName', value: 'Quad' },
  ])
  cert.setIssuer(ca.cert.subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes(),
    },
  ])
  cert.sign(ca.key, forge.md.sha256.create())
  const certificatePem = forge.pki.certificateToPem(cert)
  const parsed = new X509Certificate(certificatePem)
  return {
    certificatePem,
    caCertificatePem: ca.pem,
    serialNumber: parsed.serialNumber.toLowerCase(),
    fingerprint: normalizeFingerprint(parsed.fingerprint256),
    notAfter: new Date(parsed.validTo),
  }
}

/**
 * A PKCS#12 bundle (base64) with a fresh RSA key, the certificate and the
 * CA, encrypted with the given password: for terminals that cannot make a
 * CSR themselves.
 */
export function issueTerminalPkcs12(
  terminal: { publicId: string; kind: string },
  password: string,
  now = new Date()
): IssuedTerminalCertificate & { pkcs12: string } {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  const issued = issueTerminalCertificate(forge.pki.publicKeyFromPem(pair.publicKey), terminal, now)
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(pair.privateKey),
    [
      forge.pki.certificateFromPem(issued.certificatePem),
      forge.pki.certificateFromPem(issued.caCertificatePem),
    ],
    password,
    { algorithm: 'aes256', friendlyName: terminal.publicId }
  )
  const der = forge.asn1.toDer(asn1).getBytes()
  return { ...issued, pkcs12: forge.util.encode64(der) }
}
