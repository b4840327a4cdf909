/**
 * Verifying a campus code: the one implementation the server, the terminal
 * gateway and the terminal simulator share. It needs nothing but the issuer
 * public keys, a clock and (optionally) the blacklist, so it works offline.
 * The steps run in the order of docs/campus-code.md §6 and the first
 * failure is the answer.
 */
import { base45Decode } from './base45.js'
import { fromBase64Url, toHex } from './bytes.js'
import { codeIdOf, codeSigningInput } from './code.js'
import { credentialSigningInput } from './credential.js'
import { webCryptoBackend, type VerifyBackend } from './backend.js'
import { issuerKeyIdOf, rawPublicKey, type PublicKeyInput } from './keys.js'
import {
  CODE_LENGTH,
  CREDENTIAL_BODY_LENGTH,
  CREDENTIAL_LENGTH,
  decodeCode,
  ISSUER_KEY_ID_LENGTH,
  MAX_CREDENTIAL_LIFETIME_SECONDS,
  OFFSETS,
  type Credential,
  type OfflineLimits,
  type PermissionTag,
} from './layout.js'
import { fail, ok, type Result } from './result.js'
import type { ReplayGuard } from './replay.js'

/** Tolerated difference between the device's clock and the verifier's. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 90
/** How long after its time a code is accepted: the 30 s refresh plus 30 s to reach a scanner. */
export const DEFAULT_CODE_LIFETIME_SECONDS = 60

export type VerifyError =
  | 'malformed'
  | 'unsupported_version'
  | 'unknown_issuer_key'
  | 'bad_issuer_signature'
  | 'issuer_key_retired'
  | 'credential_invalid'
  | 'bad_device_signature'
  | 'credential_not_yet_valid'
  | 'credential_expired'
  | 'code_from_future'
  | 'code_expired'
  | 'card_blacklisted'

export type AcceptError = VerifyError | 'code_replayed'

/** Every error code, in the order verification checks them. */
export const VERIFY_ERRORS: readonly AcceptError[] = [
  'malformed',
  'unsupported_version',
  'unknown_issuer_key',
  'bad_issuer_signature',
  'issuer_key_retired',
  'credential_invalid',
  'bad_device_signature',
  'credential_not_yet_valid',
  'credential_expired',
  'code_from_future',
  'code_expired',
  'card_blacklisted',
  'code_replayed',
]

/** An issuer public key, with the time it stopped signing when it was rotated out. */
export interface IssuerKeyEntry {
  publicKey: PublicKeyInput
  /**
   * Unix seconds at which a newer key became current. Credentials this key
   * signed later are refused; earlier ones stay valid until they expire.
   */
  retiredAt?: number | null
}

export type IssuerKeyInput = PublicKeyInput | IssuerKeyEntry

export interface IssuerKey {
  /** The appliance key id (base64url of 8 bytes). */
  kid: string
  /** The 4 bytes a code carries, hex. */
  codeKeyId: string
  publicKey: Uint8Array
  retiredAt: number | null
  /** The key as the ring's backend verifies with it. */
  cryptoKey: unknown
}

/**
 * The issuer public keys a verifier accepts, imported once and indexed by the
 * 4-byte key id of the code. Build it when the key list changes, not per code.
 */
/** How many checked credentials a key ring remembers (a few MB at most). */
const CHECKED_CREDENTIALS_LIMIT = 50_000

/** A credential whose issuer signature was checked, with its device key imported. */
interface CheckedCredential {
  issuer: IssuerKey
  deviceKey: unknown
}

export class IssuerKeyRing {
  readonly #byCodeKeyId = new Map<string, IssuerKey[]>()
  /**
   * Credentials this ring has already checked, keyed by their exact bytes
   * (body and issuer signature). A phone shows a new code every 30 s under
   * the same credential for days, so a verifier sees each credential many
   * times: remembering it leaves one signature check per code (the
   * device's). A ring is rebuilt when its keys change, which forgets all.
   */
  readonly #checked = new Map<string, CheckedCredential>()
  /** How this ring's verifications are computed. */
  readonly backend: VerifyBackend

  constructor(keys: IssuerKey[], backend: VerifyBackend = webCryptoBackend) {
    this.backend = backend
    for (const key of keys) {
      const same = this.#byCodeKeyId.get(key.codeKeyId) ?? []
      same.push(key)
      this.#byCodeKeyId.set(key.codeKeyId, same)
    }
  }

  get keys(): IssuerKey[] {
    return [...this.#byCodeKeyId.values()].flat()
  }

  /**
   * Keys whose id starts with these 4 bytes. Two keys sharing 4 bytes is
   * unlikely (1 in 4 billion per pair) but harmless: each is tried.
   */
  candidates(codeKeyId: string): IssuerKey[] {
    return this.#byCodeKeyId.get(codeKeyId) ?? []
  }

  checkedCredential(bytes: Uint8Array): CheckedCredential | undefined {
    return this.#checked.get(toHex(bytes))
  }

  rememberCredential(bytes: Uint8Array, checked: CheckedCredential) {
    if (this.#checked.size >= CHECKED_CREDENTIALS_LIMIT) {
      // Oldest first: a Map iterates in insertion order.
      this.#checked.delete(this.#checked.keys().next().value!)
    }
    this.#checked.set(toHex(bytes), checked)
  }
}

function isEntry(input: IssuerKeyInput): input is IssuerKeyEntry {
  return !(input instanceof Uint8Array) && 'publicKey' in input
}

/**
 * Builds the key ring. A Map is keyed by appliance key id, which must match
 * the key (a mismatch throws: it means the key list was assembled wrongly);
 * a list of entries gets its ids computed.
 */
export async function createIssuerKeyRing(
  keys: Map<string, IssuerKeyInput> | Iterable<IssuerKeyEntry>,
  options: { backend?: VerifyBackend } = {}
): Promise<IssuerKeyRing> {
  const backend = options.backend ?? webCryptoBackend
  const named: Array<[string | null, IssuerKeyInput]> =
    keys instanceof Map ? [...keys.entries()] : [...keys].map((entry) => [null, entry])
  const ring: IssuerKey[] = []
  for (const [name, input] of named) {
    const entry = isEntry(input) ? input : { publicKey: input }
    const publicKey = await rawPublicKey(entry.publicKey)
    const kid = await issuerKeyIdOf(publicKey)
    if (name !== null && name !== kid) {
      throw new Error(`Issuer key listed as ${name} has key id ${kid}`)
    }
    ring.push({
      kid,
      codeKeyId: toHex(fromBase64Url(kid).subarray(0, ISSUER_KEY_ID_LENGTH)),
      publicKey,
      retiredAt: entry.retiredAt ?? null,
      cryptoKey: await backend.importKey(publicKey),
    })
  }
  return new IssuerKeyRing(ring, backend)
}

export interface VerifyOptions {
  /** The accepted issuer keys; build an IssuerKeyRing once rather than passing a Map per code. */
  issuerKeys: IssuerKeyRing | Map<string, IssuerKeyInput>
  /** The verifier's clock in Unix seconds (default: now). */
  now?: number
  /** Default 90. */
  clockSkewSeconds?: number
  /** Default 60. */
  codeLifetimeSeconds?: number
  /**
   * Check signatures with the backend's verifyInBackground where it has one:
   * many codes verified at once (a terminal's offline upload) then share the
   * machine's cores instead of waiting on one thread.
   */
  inBackground?: boolean
  /** The blacklist: true refuses the code with card_blacklisted. */
  isBlacklisted?: (credential: Credential) => boolean | Promise<boolean>
}

export interface VerifiedCode {
  cardNo: string
  cardType: number
  permissions: readonly PermissionTag[]
  offlineLimits: OfflineLimits
  credential: Credential
  /** The appliance key id of the issuer key that signed the credential. */
  issuerKid: string
  codeTime: number
  counter: number
  /** Stable digest of (device key, time, counter): the replay key. */
  codeId: string
  /**
   * The last second at which a verifier with the same settings accepts this
   * code; a replay guard must remember the code id until then.
   */
  acceptUntil: number
}

/** Verification timing, defaults applied; exported for replay guards and the spec's tables. */
export function verificationWindow(
  options: Pick<VerifyOptions, 'clockSkewSeconds' | 'codeLifetimeSeconds'>
) {
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS
  const codeLifetimeSeconds = options.codeLifetimeSeconds ?? DEFAULT_CODE_LIFETIME_SECONDS
  for (const [name, value] of Object.entries({ clockSkewSeconds, codeLifetimeSeconds })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a whole number of seconds, got ${value}`)
    }
  }
  return { clockSkewSeconds, codeLifetimeSeconds }
}

/** Longest text worth decoding: anything longer cannot be a format-1 code. */
const MAX_TEXT_LENGTH = 1024

/**
 * Verifies a campus code (its Base45 text) offline. Expected refusals are
 * values ({ ok: false, error }); only a broken runtime throws.
 */
export async function verifyCode(
  text: string,
  options: VerifyOptions
): Promise<Result<VerifiedCode, VerifyError>> {
  if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) return fail('malformed')
  const decoded = base45Decode(text)
  if (!decoded.ok) return fail('malformed', { reason: decoded.error })
  return verifyCodeBytes(decoded.value, options)
}

/** verifyCode for the decoded bytes (a scanner that hands over bytes). */
export async function verifyCodeBytes(
  bytes: Uint8Array,
  options: VerifyOptions
): Promise<Result<VerifiedCode, VerifyError>> {
  const { clockSkewSeconds, codeLifetimeSeconds } = verificationWindow(options)
  const now = options.now ?? Math.floor(Date.now() / 1000)

  // 1–2. Format byte and length.
  const parsed = decodeCode(bytes)
  if (!parsed.ok) return parsed
  const { credential, codeTime, counter } = parsed.value

  // 3–4. The issuer key named by the credential, and its signature.
  const ring =
    options.issuerKeys instanceof IssuerKeyRing
      ? options.issuerKeys
      : await createIssuerKeyRing(options.issuerKeys)
  const candidates = ring.candidates(credential.issuerKeyId)
  if (candidates.length === 0) {
    return fail('unknown_issuer_key', { issuerKeyId: credential.issuerKeyId })
  }
  const { backend } = ring
  const checkSignature: VerifyBackend['verify'] =
    options.inBackground && backend.verifyInBackground
      ? (key, signature, message) => backend.verifyInBackground!(key, signature, message)
      : (key, signature, message) => backend.verify(key, signature, message)
  const credentialBytes = bytes.subarray(0, CREDENTIAL_LENGTH)
  let checked = ring.checkedCredential(credentialBytes)
  if (!checked) {
    const issuerSignature = bytes.subarray(OFFSETS.issuerSignature, CREDENTIAL_LENGTH)
    const signedCredential = credentialSigningInput(bytes.subarray(0, CREDENTIAL_BODY_LENGTH))
    let signer: IssuerKey | undefined
    for (const candidate of candidates) {
      if (await checkSignature(candidate.cryptoKey, issuerSignature, signedCredential)) {
        signer = candidate
        break
      }
    }
    if (!signer) return fail('bad_issuer_signature')
    let deviceKey: unknown
    try {
      deviceKey = await backend.importKey(credential.devicePublicKey)
    } catch {
      return fail('bad_device_signature')
    }
    checked = { issuer: signer, deviceKey }
    ring.rememberCredential(credentialBytes, checked)
  }
  const issuer = checked.issuer

  // 5. A rotated-out key signs nothing new.
  if (issuer.retiredAt !== null && credential.issuedAt > issuer.retiredAt) {
    return fail('issuer_key_retired', { kid: issuer.kid })
  }

  // 6. Even a correctly signed credential must describe a sane window.
  const start = Math.min(credential.issuedAt, credential.validFrom)
  if (
    credential.validUntil <= credential.validFrom ||
    credential.validUntil - start > MAX_CREDENTIAL_LIFETIME_SECONDS
  ) {
    return fail('credential_invalid')
  }

  // 7. The device signature over credential, time and counter.
  const deviceSignature = bytes.subarray(OFFSETS.deviceSignature, CODE_LENGTH)
  const signedCode = codeSigningInput(bytes.subarray(0, OFFSETS.deviceSignature))
  if (!(await checkSignature(checked.deviceKey, deviceSignature, signedCode))) {
    return fail('bad_device_signature')
  }

  // 8–9. The credential's window, then the code's age, each with the clock tolerance.
  if (now + clockSkewSeconds < credential.validFrom) {
    return fail('credential_not_yet_valid', { validFrom: credential.validFrom })
  }
  if (now - clockSkewSeconds >= credential.validUntil) {
    return fail('credential_expired', { validUntil: credential.validUntil })
  }
  if (codeTime > now + clockSkewSeconds) return fail('code_from_future', { codeTime })
  const acceptUntil = codeTime + codeLifetimeSeconds + clockSkewSeconds
  if (now > acceptUntil) return fail('code_expired', { codeTime })

  // 10. The blacklist last: it is the only step that looks beyond the code.
  if (options.isBlacklisted && (await options.isBlacklisted(credential))) {
    return fail('card_blacklisted', { cardNo: credential.cardNo })
  }

  return ok({
    cardNo: credential.cardNo,
    cardType: credential.cardType,
    permissions: credential.permissions,
    offlineLimits: credential.offlineLimits,
    credential,
    issuerKid: issuer.kid,
    codeTime,
    counter,
    codeId: await codeIdOf(credential.devicePublicKey, codeTime, counter, backend.sha256),
    acceptUntil,
  })
}

/**
 * Verifies a code and claims it in the replay guard: what a terminal or the
 * server does before acting on a code. A code that verifies but was already
 * claimed is refused with code_replayed (and the caller logs and counts it).
 */
export async function acceptCode(
  text: string,
  options: VerifyOptions & { replayGuard: ReplayGuard }
): Promise<Result<VerifiedCode, AcceptError>> {
  const verified = await verifyCode(text, options)
  if (!verified.ok) return verified
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const claim = await options.replayGuard.claim(verified.value, now)
  if (!claim.ok) {
    return fail('code_replayed', { cardNo: verified.value.cardNo, codeId: verified.value.codeId })
  }
  return verified
}

/**
 * A blacklist predicate from the lists a terminal syncs: card numbers, and
 * device public keys (hex) for a lost phone whose card lives on elsewhere.
 */
export function blacklistOf(lists: {
  cardNos?: Iterable<string>
  devicePublicKeys?: Iterable<string>
}): (credential: Credential) => boolean {
  const cards = new Set(lists.cardNos ?? [])
  const devices = new Set([...(lists.devicePublicKeys ?? [])].map((key) => key.toLowerCase()))
  return (credential) =>
    cards.has(credential.cardNo) || devices.has(toHex(credential.devicePublicKey))
}
