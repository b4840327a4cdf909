import { createPrivateKey, createPublicKey, generateKeyPairSync, createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { storagePath, writePrivateFile, ensurePrivateDir } from './storage_root.js'

/**
 * The campus-code issuer keys (Ed25519). The appliance signs credentials with
 * the current key; terminals verify with the public keys, found by key id, so
 * that a key can be rotated while old credentials still verify.
 */
const issuerDir = () => storagePath('keys', 'issuer')

/** A key id: the first 8 bytes of the SHA-256 of the raw public key, base64url. */
export function keyIdOf(publicKeyDer: Buffer): string {
  return createHash('sha256').update(publicKeyDer).digest().subarray(0, 8).toString('base64url')
}

export interface IssuerKeyInfo {
  kid: string
  created: boolean
  publicKeyPem: string
}

/** The key id that signs new credentials, or null before setup. */
export function currentIssuerKid(): string | null {
  const pointer = storagePath('keys', 'issuer', 'current')
  return existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : null
}

/** Creates a new issuer key pair and makes it current. */
export function createIssuerKey(): IssuerKeyInfo {
  ensurePrivateDir(issuerDir())
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const der = publicKey.export({ type: 'spki', format: 'der' })
  const kid = keyIdOf(der)
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  writePrivateFile(
    storagePath('keys', 'issuer', `${kid}.key`),
    privateKey.export({ type: 'pkcs8', format: 'pem' })
  )
  writePrivateFile(storagePath('keys', 'issuer', `${kid}.pub`), publicKeyPem)
  writePrivateFile(storagePath('keys', 'issuer', 'current'), `${kid}\n`)
  return { kid, created: true, publicKeyPem }
}

/** Returns the current issuer key, creating the first one if needed. */
export function ensureIssuerKey(): IssuerKeyInfo {
  const kid = currentIssuerKid()
  if (kid && existsSync(storagePath('keys', 'issuer', `${kid}.key`))) {
    const publicKeyPem = readFileSync(storagePath('keys', 'issuer', `${kid}.pub`), 'utf8')
    return { kid, created: false, publicKeyPem }
  }
  return createIssuerKey()
}

/** Loads the private key of the current issuer key. */
export function currentIssuerPrivateKey() {
  const kid = currentIssuerKid()
  if (!kid) throw new Error('No campus-code issuer key: run node ace appliance:setup first')
  return { kid, key: createPrivateKey(readFileSync(storagePath('keys', 'issuer', `${kid}.key`))) }
}

/** All issuer public keys by key id, for terminals and verification. */
export function issuerPublicKeys(): Map<string, ReturnType<typeof createPublicKey>> {
  const keys = new Map<string, ReturnType<typeof createPublicKey>>()
  if (!existsSync(issuerDir())) return keys
  for (const file of readdirSync(issuerDir())) {
    if (!file.endsWith('.pub')) continue
    keys.set(file.slice(0, -4), createPublicKey(readFileSync(storagePath('keys', 'issuer', file))))
  }
  return keys
}
