/**
 * Campus codes: what the phone shows. The device makes one whenever the
 * screen needs a fresh code (every 30 s by default), with no network: its
 * credential, the time, a counter, and the device key's signature.
 */
import { asciiBytes, concatBytes, sha256, toHex } from './bytes.js'
import { base45Encode } from './base45.js'
import { signMessage, type SigningKey } from './keys.js'
import {
  CODE_BODY_LENGTH,
  CREDENTIAL_LENGTH,
  decodeCredential,
  LABELS,
  OFFSETS,
  type Credential,
} from './layout.js'

/** How often the portal shows a new code unless configured otherwise. */
export const DEFAULT_CODE_REFRESH_SECONDS = 30

const CODE_LABEL = asciiBytes(LABELS.code)
const CODE_ID_LABEL = asciiBytes(LABELS.codeId)

export interface MadeCode {
  /** Base45 text to put in the QR code (alphanumeric mode). */
  text: string
  bytes: Uint8Array
  codeTime: number
  counter: number
}

/** The message the device signs: label ‖ code body (139 bytes). */
export function codeSigningInput(body: Uint8Array): Uint8Array {
  return concatBytes(CODE_LABEL, body.subarray(0, CODE_BODY_LENGTH))
}

/**
 * Makes a campus code. `counter` (0–65535) must differ for every code the
 * same device key makes within one second; the portal keeps one counter per
 * device key, increments it for every code and lets it wrap. The (time,
 * counter) pair is what makes a code single-use: a code with the same pair
 * is a replay even if its credential was renewed in between.
 */
export async function makeCode(
  credential: Uint8Array | Credential,
  devicePrivateKey: SigningKey,
  options: { now?: number; counter: number }
): Promise<MadeCode> {
  const bytes = credential instanceof Uint8Array ? credential : credential.bytes
  const decoded = decodeCredential(bytes)
  if (!decoded.ok) throw new TypeError(`Not a credential (${decoded.error})`)
  const codeTime = options.now ?? Math.floor(Date.now() / 1000)
  if (!Number.isInteger(codeTime) || codeTime < 0 || codeTime > 0xffffffff) {
    throw new RangeError(`now must be whole Unix seconds, got ${codeTime}`)
  }
  if (!Number.isInteger(options.counter) || options.counter < 0 || options.counter > 0xffff) {
    throw new RangeError(`counter must be an integer from 0 to 65535, got ${options.counter}`)
  }
  const body = new Uint8Array(CODE_BODY_LENGTH)
  body.set(bytes.subarray(0, CREDENTIAL_LENGTH))
  const view = new DataView(body.buffer)
  view.setUint32(OFFSETS.codeTime, codeTime)
  view.setUint16(OFFSETS.counter, options.counter)
  const signature = await signMessage(devicePrivateKey, codeSigningInput(body))
  const code = concatBytes(body, signature)
  return { text: base45Encode(code), bytes: code, codeTime, counter: options.counter }
}

/**
 * The code id: a stable digest for replay detection, the first 16 bytes of
 * SHA-256(label ‖ device public key ‖ code time ‖ counter), hex. It leaves
 * out both signatures and the rest of the credential, so that neither a
 * re-encoded signature nor a renewed credential turns a used (time,
 * counter) pair into a new code.
 */
export async function codeIdOf(
  devicePublicKey: Uint8Array,
  codeTime: number,
  counter: number,
  digest: (data: Uint8Array) => Uint8Array | Promise<Uint8Array> = sha256
): Promise<string> {
  const tail = new Uint8Array(6)
  const view = new DataView(tail.buffer)
  view.setUint32(0, codeTime)
  view.setUint16(4, counter)
  const hash = await digest(concatBytes(CODE_ID_LABEL, devicePublicKey, tail))
  return toHex(hash.subarray(0, 16))
}
