/**
 * Ed25519 keys for the campus code: device keys (made on the phone at
 * activation), issuer public keys (found by key id), signing and checking.
 * WebCrypto does the work everywhere it has Ed25519; the software signer in
 * ed25519_software.ts only stands in for a phone browser that lacks it.
 */
import { asciiBytes, concatBytes, copyBytes, sha256, toBase64Url } from './bytes.js'
import { softwarePublicKey, softwareSign } from './ed25519_software.js'
import { LABELS } from './layout.js'

/** A WebCrypto key, typed the same way in Node and in browsers. */
export type WebCryptoKey = InstanceType<typeof CryptoKey>

/**
 * A device private key held as a seed, made only where the browser's
 * WebCrypto lacks Ed25519. It can be stored in IndexedDB like a CryptoKey.
 */
export interface SoftwareDeviceKey {
  readonly kind: 'software-ed25519'
  readonly seed: Uint8Array
}

/** What can sign a credential (issuer) or a code (device). */
export type SigningKey = WebCryptoKey | SoftwareDeviceKey

/** A public key as a CryptoKey or as its 32 raw bytes. */
export type PublicKeyInput = WebCryptoKey | Uint8Array

export interface DeviceKeys {
  /** Keep this on the device (IndexedDB stores CryptoKeys as they are). */
  privateKey: SigningKey
  /** The 32-byte raw public key that goes into the credential. */
  publicKey: Uint8Array
  implementation: 'webcrypto' | 'software'
}

const ED25519 = { name: 'Ed25519' } as const
export const PUBLIC_KEY_LENGTH = 32
export const SIGNATURE_LENGTH = 64

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows. */
const SPKI_PREFIX = Uint8Array.of(
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00
)
/** DER prefix of an Ed25519 PKCS #8 private key (RFC 8410); the 32-byte seed follows. */
const PKCS8_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20
)

let webCryptoSupport: Promise<boolean> | undefined

/** Whether this runtime's WebCrypto can make and use Ed25519 keys. */
export function supportsWebCryptoEd25519(): Promise<boolean> {
  webCryptoSupport ??= crypto.subtle.generateKey(ED25519, false, ['sign', 'verify']).then(
    () => true,
    () => false
  )
  return webCryptoSupport
}

function isSoftwareKey(key: SigningKey): key is SoftwareDeviceKey {
  return (key as SoftwareDeviceKey).kind === 'software-ed25519'
}

/**
 * Makes the device key pair at activation. With WebCrypto Ed25519 the private
 * key is non-extractable: page scripts can sign with it but cannot read it.
 * `implementation: 'software'` forces the fallback (tests); 'webcrypto'
 * refuses to fall back.
 */
export async function generateDeviceKeys(
  options: { implementation?: 'auto' | 'webcrypto' | 'software' } = {}
): Promise<DeviceKeys> {
  const wanted = options.implementation ?? 'auto'
  if (wanted !== 'software' && (wanted === 'webcrypto' || (await supportsWebCryptoEd25519()))) {
    const pair = (await crypto.subtle.generateKey(ED25519, false, ['sign', 'verify'])) as {
      privateKey: WebCryptoKey
      publicKey: WebCryptoKey
    }
    return {
      privateKey: pair.privateKey,
      publicKey: await rawPublicKey(pair.publicKey),
      implementation: 'webcrypto',
    }
  }
  const seed = crypto.getRandomValues(new Uint8Array(32))
  return {
    privateKey: { kind: 'software-ed25519', seed },
    publicKey: await softwarePublicKey(seed),
    implementation: 'software',
  }
}

/**
 * A WebCrypto private key from a 32-byte Ed25519 seed (RFC 8032 private
 * key). Used for test vectors and for the issuer key files.
 */
export async function importPrivateKeySeed(
  seed: Uint8Array,
  extractable = false
): Promise<WebCryptoKey> {
  if (seed.length !== 32) throw new TypeError('An Ed25519 seed has 32 bytes')
  return crypto.subtle.importKey('pkcs8', concatBytes(PKCS8_PREFIX, seed), ED25519, extractable, [
    'sign',
  ])
}

/** The public key of a seed, computed without WebCrypto Ed25519. */
export function publicKeyOfSeed(seed: Uint8Array): Promise<Uint8Array> {
  return softwarePublicKey(seed)
}

/** The 32 raw bytes of a public key. */
export async function rawPublicKey(key: PublicKeyInput): Promise<Uint8Array<ArrayBuffer>> {
  if (key instanceof Uint8Array) {
    if (key.length !== PUBLIC_KEY_LENGTH) throw new TypeError('An Ed25519 public key has 32 bytes')
    return copyBytes(key)
  }
  return new Uint8Array(await crypto.subtle.exportKey('raw', key))
}

/** A verify-only CryptoKey from raw public-key bytes (or the CryptoKey itself). */
export async function importPublicKey(key: PublicKeyInput): Promise<WebCryptoKey> {
  if (!(key instanceof Uint8Array)) return key
  if (key.length !== PUBLIC_KEY_LENGTH) throw new TypeError('An Ed25519 public key has 32 bytes')
  return crypto.subtle.importKey('raw', copyBytes(key), ED25519, true, ['verify'])
}

/** Signs with a WebCrypto key or the software fallback; always 64 bytes. */
export async function signMessage(key: SigningKey, message: Uint8Array): Promise<Uint8Array> {
  if (isSoftwareKey(key)) return softwareSign(key.seed, message)
  return new Uint8Array(await crypto.subtle.sign(ED25519, key, copyBytes(message)))
}

/** Checks an Ed25519 signature; a malformed key or signature is simply "false". */
export async function verifySignature(
  key: PublicKeyInput,
  signature: Uint8Array,
  message: Uint8Array
): Promise<boolean> {
  if (signature.length !== SIGNATURE_LENGTH) return false
  try {
    const publicKey = await importPublicKey(key)
    return await crypto.subtle.verify(ED25519, publicKey, copyBytes(signature), copyBytes(message))
  } catch {
    return false
  }
}

/** The SubjectPublicKeyInfo DER of a raw Ed25519 public key. */
export function spkiOf(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(SPKI_PREFIX, raw)
}

/**
 * The issuer key id: base64url of the first 8 bytes of SHA-256 over the
 * key's SubjectPublicKeyInfo DER, exactly as the appliance names its key
 * files (app/appliance/services/issuer_keys.ts). A campus code carries the
 * first 4 of those 8 bytes.
 */
export async function issuerKeyIdOf(key: PublicKeyInput): Promise<string> {
  const digest = await sha256(spkiOf(await rawPublicKey(key)))
  return toBase64Url(digest.subarray(0, 8))
}

/** Domain-separation label of an activation proof. */
const PROOF_LABEL = asciiBytes(LABELS.proof)

/**
 * Proves at activation that the device holds the private key of the public
 * key it sends: it signs the server's one-time challenge.
 */
export function proveDeviceKey(privateKey: SigningKey, challenge: Uint8Array): Promise<Uint8Array> {
  return signMessage(privateKey, concatBytes(PROOF_LABEL, challenge))
}

/** Checks an activation proof made by proveDeviceKey. */
export function verifyDeviceKeyProof(
  publicKey: PublicKeyInput,
  challenge: Uint8Array,
  proof: Uint8Array
): Promise<boolean> {
  return verifySignature(publicKey, proof, concatBytes(PROOF_LABEL, challenge))
}
