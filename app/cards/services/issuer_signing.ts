import { createPublicKey } from 'node:crypto'
import { statSync } from 'node:fs'
import {
  currentIssuerPrivateKey,
  listIssuerKeys,
  type IssuerKeyRecord,
  issuerKeyChanges,
} from '#appliance/services/issuer_keys'
import { storagePath } from '#appliance/services/storage_root'
import { fromBase64Url } from '#cards/campus_code/bytes'
import { issueCredential } from '#cards/campus_code/credential'
import type { WebCryptoKey } from '#cards/campus_code/keys'
import {
  createIssuerKeyRing,
  DEFAULT_CLOCK_SKEW_SECONDS,
  type IssuerKeyRing,
} from '#cards/campus_code/verify'
import { MAX_CREDENTIAL_LIFETIME_SECONDS, type CredentialFields } from '#cards/campus_code/layout'
import { nodeCryptoBackend } from '#cards/services/node_code_crypto'

/**
 * The server's side of the issuer keys: the key files under the storage root
 * (app/appliance/services/issuer_keys.ts) turned into WebCrypto keys for the
 * campus-code library. Node-only, so it stays outside the isomorphic
 * library.
 */

export interface IssuerPublicKey {
  kid: string
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array
  current: boolean
  /** Unix seconds at which the key stopped signing, or null while current. */
  retiredAt: number | null
  /** Unix seconds after which no credential of this key can be valid; null while current. */
  acceptedUntil: number | null
}

/** The current issuer key as a non-extractable WebCrypto signing key. */
export async function currentIssuerSigningKey(): Promise<{
  kid: string
  privateKey: WebCryptoKey
}> {
  const { kid, key } = currentIssuerPrivateKey()
  const der = key.export({ type: 'pkcs8', format: 'der' })
  const privateKey = await crypto.subtle.importKey('pkcs8', der, { name: 'Ed25519' }, false, [
    'sign',
  ])
  return { kid, privateKey }
}

/**
 * Signs a credential with the current issuer key. The key file is read for
 * every credential, so a rotation by `node ace issuer:rotate` takes effect
 * in every running process at once.
 */
export async function signCredential(
  fields: CredentialFields
): Promise<{ kid: string; credential: Uint8Array }> {
  const { kid, privateKey } = await currentIssuerSigningKey()
  return { kid, credential: await issueCredential(fields, privateKey, kid) }
}

function rawPublicKeyOf(record: IssuerKeyRecord): Uint8Array {
  const jwk = createPublicKey(record.publicKeyPem).export({ format: 'jwk' })
  return fromBase64Url(jwk.x ?? '')
}

/**
 * Issuer public keys that can still have valid credentials at `now`: the
 * current key, and each retired key until 7 days (the longest credential)
 * plus the clock tolerance after it stopped signing. This is the list
 * terminals sync.
 */
export function issuerPublicKeyList(now = Math.floor(Date.now() / 1000)): IssuerPublicKey[] {
  const margin = MAX_CREDENTIAL_LIFETIME_SECONDS + DEFAULT_CLOCK_SKEW_SECONDS
  return listIssuerKeys()
    .map((record) => ({
      kid: record.kid,
      publicKey: rawPublicKeyOf(record),
      current: record.current,
      retiredAt: record.retiredAt,
      acceptedUntil: record.retiredAt === null ? null : record.retiredAt + margin,
    }))
    .filter((key) => key.acceptedUntil === null || key.acceptedUntil >= now)
}

/** Rebuilt when the key folder changes, and at least once a minute for the accept windows. */
const RING_MAX_AGE_MS = 60_000
let cached: { fingerprint: string; builtAt: number; ring: Promise<IssuerKeyRing> } | null = null

/** How often the key folder is looked at for changes made by another process (ms). */
const FOLDER_CHECK_MS = 500
let folderSeen: { at: number; dir: string; fingerprint: string } | null = null

/**
 * What changes when keys are added to, retired in or removed from the key
 * folder: this process's own changes (counted by issuer_keys) at once, and
 * the folder's modification time (a file created, renamed or removed in a
 * folder changes it), looked at every FOLDER_CHECK_MS at most — so another
 * process's rotation is seen within half a second.
 */
function folderFingerprint(): string {
  const dir = storagePath('keys', 'issuer')
  const now = Date.now()
  if (!folderSeen || folderSeen.dir !== dir || now - folderSeen.at >= FOLDER_CHECK_MS) {
    const stats = statSync(dir, { bigint: true, throwIfNoEntry: false })
    folderSeen = { at: now, dir, fingerprint: stats ? `${stats.mtimeNs}:${stats.ino}` : '' }
  }
  return `${dir}\n${folderSeen.fingerprint}\n${issuerKeyChanges()}`
}

/**
 * The key ring the server verifies campus codes with, cached across calls.
 * A rotation (new files in the key folder) is seen on the next call.
 */
export function issuerKeyRing(): Promise<IssuerKeyRing> {
  const fingerprint = folderFingerprint()
  const nowMs = Date.now()
  if (cached && cached.fingerprint === fingerprint && nowMs - cached.builtAt < RING_MAX_AGE_MS) {
    return cached.ring
  }
  const keys = issuerPublicKeyList(Math.floor(nowMs / 1000))
  const ring = createIssuerKeyRing(
    keys.map((key) => ({ publicKey: key.publicKey, retiredAt: key.retiredAt })),
    { backend: nodeCryptoBackend }
  )
  cached = { fingerprint, builtAt: nowMs, ring }
  // A failed build is not kept: the next call tries again.
  ring.catch(() => {
    if (cached?.ring === ring) cached = null
  })
  return ring
}
