import { createPrivateKey, createPublicKey, generateKeyPairSync, createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { storagePath, writePrivateFile, ensurePrivateDir } from './storage_root.js'

/**
 * The campus-code issuer keys (Ed25519). The appliance signs credentials with
 * the current key; terminals verify with the public keys, found by key id, so
 * that a key can be rotated while old credentials still verify.
 */
const issuerDir = () => storagePath('keys', 'issuer')

let changes = 0

/** Grows with every change this process makes to the key folder (verifiers read the folder again). */
export function issuerKeyChanges(): number {
  return changes
}

/** A key id: the first 8 bytes of the SHA-256 of the public key's SPKI DER, base64url. */
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
  changes++
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

/*
 * Rotation. A rotated-out key keeps its public key (`<kid>.pub`) so that
 * credentials it signed verify until they expire (7 days at most), gains a
 * `<kid>.retired` file with the Unix second it stopped signing, and loses
 * its private key, which nothing needs any more. A withdrawn key (suspected
 * compromise) also loses its public key: `<kid>.pub` becomes
 * `<kid>.pub.withdrawn`, so it is no longer listed and its credentials are
 * refused at once.
 */

/** One issuer key as the storage root holds it. */
export interface IssuerKeyRecord {
  kid: string
  publicKeyPem: string
  current: boolean
  /** Unix seconds at which a newer key became current, or null. */
  retiredAt: number | null
}

export interface IssuerKeyRotation {
  kid: string
  publicKeyPem: string
  previousKid: string | null
  /** Unix seconds: when the previous key stopped signing. */
  rotatedAt: number
  /** Key ids withdrawn by this rotation. */
  withdrawn: string[]
}

/** When the key stopped signing (Unix seconds), or null while it is current or never rotated. */
export function issuerKeyRetiredAt(kid: string): number | null {
  const path = storagePath('keys', 'issuer', `${kid}.retired`)
  if (!existsSync(path)) return null
  const value = Number(readFileSync(path, 'utf8').trim())
  return Number.isSafeInteger(value) ? value : null
}

/** Every listed (not withdrawn) issuer key, the current one first. */
export function listIssuerKeys(): IssuerKeyRecord[] {
  if (!existsSync(issuerDir())) return []
  const current = currentIssuerKid()
  const records: IssuerKeyRecord[] = []
  for (const file of readdirSync(issuerDir())) {
    if (!file.endsWith('.pub')) continue
    const kid = file.slice(0, -4)
    records.push({
      kid,
      publicKeyPem: readFileSync(storagePath('keys', 'issuer', file), 'utf8'),
      current: kid === current,
      retiredAt: kid === current ? null : issuerKeyRetiredAt(kid),
    })
  }
  return records.sort(
    (a, b) => Number(b.current) - Number(a.current) || (b.retiredAt ?? 0) - (a.retiredAt ?? 0)
  )
}

/**
 * Makes a new current issuer key. The previous current key is retired (see
 * above); with `withdrawPrevious` every older key is withdrawn instead, for
 * a key that may have leaked: devices then need a renewed credential before
 * their codes verify again.
 */
export function rotateIssuerKey(
  options: { withdrawPrevious?: boolean; now?: Date } = {}
): IssuerKeyRotation {
  const rotatedAt = Math.floor((options.now ?? new Date()).getTime() / 1000)
  const previousKid = currentIssuerKid()
  // Every listed key but the new one; the previous current key among them.
  const older = listIssuerKeys().map((record) => record.kid)
  const created = createIssuerKey()
  const withdrawn: string[] = []
  for (const kid of older) {
    if (kid === created.kid) continue
    const base = storagePath('keys', 'issuer', kid)
    // Keys that were never current since the last rotation count as retired now.
    if (!existsSync(`${base}.retired`)) {
      writePrivateFile(`${base}.retired`, `${rotatedAt}\n`)
    }
    rmSync(`${base}.key`, { force: true })
    if (options.withdrawPrevious) {
      renameSync(`${base}.pub`, `${base}.pub.withdrawn`)
      withdrawn.push(kid)
    }
  }
  changes++
  return {
    kid: created.kid,
    publicKeyPem: created.publicKeyPem,
    previousKid,
    rotatedAt,
    withdrawn,
  }
}
