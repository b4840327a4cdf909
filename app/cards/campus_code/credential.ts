/**
 * Credentials: what the appliance signs with its issuer key for one device
 * (card, device key, validity, offline limits, permission tags).
 */
import { asciiBytes, concatBytes } from './bytes.js'
import { signMessage, type SigningKey } from './keys.js'
import {
  CREDENTIAL_BODY_LENGTH,
  decodeCredential,
  encodeCredentialBody,
  issuerKeyIdBytes,
  LABELS,
  type Credential,
  type CredentialFields,
} from './layout.js'

const CREDENTIAL_LABEL = asciiBytes(LABELS.credential)

/** The message the issuer signs: label ‖ credential body (69 bytes). */
export function credentialSigningInput(body: Uint8Array): Uint8Array {
  return concatBytes(CREDENTIAL_LABEL, body.subarray(0, CREDENTIAL_BODY_LENGTH))
}

/**
 * Signs a credential with the issuer key named by `kid` (the appliance key
 * id, base64url). Returns the 133 bytes the device stores and puts at the
 * start of every code. Throws RangeError on a field out of range.
 */
export async function issueCredential(
  fields: CredentialFields,
  issuerPrivateKey: SigningKey,
  kid: string
): Promise<Uint8Array> {
  const body = encodeCredentialBody(fields, issuerKeyIdBytes(kid))
  const signature = await signMessage(issuerPrivateKey, credentialSigningInput(body))
  return concatBytes(body, signature)
}

/** Default age after which an online portal fetches a fresh credential. */
export const DEFAULT_RENEW_AFTER_SECONDS = 3600

/**
 * Whether the device should fetch a new credential now: it is older than
 * `renewAfterSeconds` (so that limits, permissions and a new issuer key
 * reach the phone soon), or it has ended, or it is not valid for this device
 * key. The portal asks this whenever it is online; offline, the credential it
 * holds keeps working until validUntil.
 */
export function credentialNeedsRenewal(
  credential: Uint8Array | Credential,
  options: { now?: number; renewAfterSeconds?: number; devicePublicKey?: Uint8Array } = {}
): boolean {
  const decoded = credential instanceof Uint8Array ? decodeCredential(credential) : null
  if (decoded && !decoded.ok) return true
  const value = decoded ? decoded.value : (credential as Credential)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const renewAfter = options.renewAfterSeconds ?? DEFAULT_RENEW_AFTER_SECONDS
  if (options.devicePublicKey) {
    const key = options.devicePublicKey
    const same =
      key.length === value.devicePublicKey.length &&
      key.every((byte, index) => byte === value.devicePublicKey[index])
    if (!same) return true
  }
  return now - value.issuedAt >= renewAfter || now >= value.validUntil
}
