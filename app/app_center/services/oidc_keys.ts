import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import { existsSync, linkSync, readFileSync, rmSync, statSync } from 'node:fs'
import { ensurePrivateDir, storagePath, writePrivateFile } from '#appliance/services/storage_root'

/**
 * The OpenID Connect provider's signing keys, in the storage root under
 * keys/oidc/. Each generation is a pair: an RSA key for RS256 (what every
 * relying party understands) and an Ed25519 key for apps that ask for
 * EdDSA. keyring.json lists the generations newest first; the newest signs,
 * the older ones stay published in the JWKS until tokens signed with them
 * have expired, so that relying parties can still verify those tokens.
 *
 * The web processes read the keyring when they build the provider and
 * notice a rotation by the keyring file's change time.
 */

export type SigningAlg = 'RS256' | 'EdDSA'

export interface KeyringEntry {
  kid: string
  alg: SigningAlg
  /** ISO time the key was made. */
  createdAt: string
  /** ISO time a newer key took over; null for the current keys. */
  supersededAt: string | null
}

interface Keyring {
  version: 1
  keys: KeyringEntry[]
}

/** A private JWK as the provider takes it. */
export type PrivateJwk = JsonWebKey & { kid: string; alg: SigningAlg; use: 'sig' }

/**
 * How long a superseded key stays published. ID tokens live an hour; a day
 * covers relying parties that cache the JWKS and clocks that drift.
 */
export const DEFAULT_RETIRE_AFTER_SECONDS = 24 * 60 * 60

const keyDir = () => storagePath('keys', 'oidc')
const keyringPath = () => storagePath('keys', 'oidc', 'keyring.json')
const keyPath = (kid: string) => storagePath('keys', 'oidc', `${kid}.jwk`)

/** The RFC 7638 thumbprint of the public part, as the key id. */
function thumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

function generate(alg: SigningAlg): PrivateJwk {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' })
  return { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' }
}

function readKeyring(): Keyring | null {
  if (!existsSync(keyringPath())) return null
  const parsed = JSON.parse(readFileSync(keyringPath(), 'utf8')) as Keyring
  if (parsed.version !== 1 || !Array.isArray(parsed.keys)) {
    throw new Error(`${keyringPath()} is not a keyring Quad can read`)
  }
  return parsed
}

function writeKeyring(keyring: Keyring) {
  writePrivateFile(keyringPath(), `${JSON.stringify(keyring, null, 2)}\n`)
}

/** Makes a new generation (RS256 and EdDSA) and returns its entries. */
function newGeneration(now: Date): KeyringEntry[] {
  ensurePrivateDir(keyDir())
  return (['RS256', 'EdDSA'] as const).map((alg) => {
    const jwk = generate(alg)
    writePrivateFile(keyPath(jwk.kid), `${JSON.stringify(jwk)}\n`)
    return { kid: jwk.kid, alg, createdAt: now.toISOString(), supersededAt: null }
  })
}

/**
 * The keyring, creating the first generation on first use. Several web
 * processes may start at once: the keyring is created with a hard link,
 * which fails if another process got there first, and then that one wins.
 */
export function ensureOidcKeyring(now = new Date()): KeyringEntry[] {
  const existing = readKeyring()
  if (existing && existing.keys.length > 0) return existing.keys
  const keys = newGeneration(now)
  const draft = `${keyringPath()}.${process.pid}.draft`
  writePrivateFile(draft, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`)
  try {
    linkSync(draft, keyringPath())
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    for (const entry of keys) rmSync(keyPath(entry.kid), { force: true })
  } finally {
    rmSync(draft, { force: true })
  }
  return readKeyring()!.keys
}

/**
 * The private keys the provider signs and publishes with, current first
 * (the provider signs with the first key of the requested algorithm).
 */
export function oidcSigningKeys(): PrivateJwk[] {
  return ensureOidcKeyring().map((entry) => {
    const jwk = JSON.parse(readFileSync(keyPath(entry.kid), 'utf8')) as PrivateJwk
    if (jwk.kid !== entry.kid) throw new Error(`${keyPath(entry.kid)} holds another key`)
    return jwk
  })
}

/**
 * A fingerprint of the keyring file (change time and size), so that a web
 * process notices a rotation made by `node ace oidc:rotate-keys`.
 */
export function keyringVersion(): string {
  try {
    const info = statSync(keyringPath())
    return `${info.mtimeMs}:${info.size}`
  } catch {
    return 'none'
  }
}

export interface RotationOutcome {
  current: KeyringEntry[]
  /** Superseded keys still published. */
  kept: KeyringEntry[]
  /** Keys superseded long enough ago to be withdrawn and deleted. */
  retired: KeyringEntry[]
}

/**
 * Adds a new current generation. The previous keys are marked superseded
 * and stay published; keys superseded more than `retireAfterSeconds` ago are
 * withdrawn from the JWKS and their files deleted.
 */
export function rotateOidcKeys(
  options: { retireAfterSeconds?: number; now?: Date } = {}
): RotationOutcome {
  const now = options.now ?? new Date()
  const retireAfter = options.retireAfterSeconds ?? DEFAULT_RETIRE_AFTER_SECONDS
  const previous = ensureOidcKeyring(now).map((entry) => ({
    ...entry,
    supersededAt: entry.supersededAt ?? now.toISOString(),
  }))
  const retired = previous.filter(
    (entry) => now.getTime() - Date.parse(entry.supersededAt) > retireAfter * 1000
  )
  const kept = previous.filter((entry) => !retired.includes(entry))
  const current = newGeneration(now)
  writeKeyring({ version: 1, keys: [...current, ...kept] })
  for (const entry of retired) rmSync(keyPath(entry.kid), { force: true })
  return { current, kept, retired }
}
