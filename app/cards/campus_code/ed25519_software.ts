/**
 * A small Ed25519 signer (RFC 8032 §5.1) for the one place WebCrypto may not
 * have Ed25519: older mobile browsers showing the campus code. It only
 * derives a public key and signs; every verifier (server, terminals) uses
 * WebCrypto or its own library. SHA-512 still comes from WebCrypto, which
 * every browser has.
 *
 * Limits, on purpose:
 * - BigInt arithmetic is not constant-time. The scalar multiplication runs
 *   the same sequence of operations for every key (double, add, select on
 *   each of 256 bits), but the engine's BigInt timings can still depend on
 *   the values. The key signs codes for one card for at most one credential
 *   lifetime (7 days), and the attacker would need to time the phone's own
 *   JavaScript, so the risk is accepted; WebCrypto is always preferred.
 * - The private key is a 32-byte seed in the page's storage, not a
 *   non-extractable CryptoKey.
 *
 * Checked against the RFC 8032 §7.1 test vectors and against WebCrypto
 * signatures (tests/cards/campus_code_software_signer.spec.ts).
 */
import { concatBytes, copyBytes } from './bytes.js'

const P = 2n ** 255n - 19n
/** The order of the base point. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n
const D2 = (2n * D) % P
const BASE_X = 15112221349535400772501151409588531511454012693041857206046113283949847762202n
const BASE_Y = 46316835694926478169428394003475163141307993866256225615783033603165251855960n

/** A point in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, x·y = T/Z. */
interface Point {
  x: bigint
  y: bigint
  z: bigint
  t: bigint
}

const BASE: Point = { x: BASE_X, y: BASE_Y, z: 1n, t: (BASE_X * BASE_Y) % P }
const IDENTITY: Point = { x: 0n, y: 1n, z: 1n, t: 0n }

function mod(value: bigint, modulus: bigint = P): bigint {
  const rest = value % modulus
  return rest >= 0n ? rest : rest + modulus
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n
  let square = mod(base)
  let rest = exponent
  while (rest > 0n) {
    if (rest & 1n) result = (result * square) % P
    square = (square * square) % P
    rest >>= 1n
  }
  return result
}

/**
 * Point addition for a = −1 ("add-2008-hwcd-3"). The formula is complete on
 * this curve: it also doubles and handles the identity, so one routine serves
 * every step of the ladder.
 */
function add(p: Point, q: Point): Point {
  const a = mod((p.y - p.x) * (q.y - q.x))
  const b = mod((p.y + p.x) * (q.y + q.x))
  const c = mod(p.t * D2 * q.t)
  const d = mod(2n * p.z * q.z)
  const e = b - a
  const f = d - c
  const g = d + c
  const h = b + a
  return { x: mod(e * f), y: mod(g * h), z: mod(f * g), t: mod(e * h) }
}

/** scalar·point, most significant bit first, the same steps for every scalar. */
function multiply(point: Point, scalar: bigint): Point {
  let result = IDENTITY
  for (let bit = 255n; bit >= 0n; bit--) {
    result = add(result, result)
    const sum = add(result, point)
    // Both branches are computed; only the choice depends on the bit.
    result = (scalar >> bit) & 1n ? sum : result
  }
  return result
}

function encodePoint(point: Point): Uint8Array<ArrayBuffer> {
  const inverse = power(point.z, P - 2n)
  const x = mod(point.x * inverse)
  const y = mod(point.y * inverse)
  const out = littleEndianBytes(y)
  // The sign of x (its lowest bit) goes into the top bit of the last byte.
  out[31] |= Number(x & 1n) << 7
  return out
}

function littleEndianBytes(value: bigint): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(32)
  let rest = value
  for (let index = 0; index < 32; index++) {
    out[index] = Number(rest & 0xffn)
    rest >>= 8n
  }
  return out
}

function littleEndianNumber(bytes: Uint8Array): bigint {
  let value = 0n
  for (let index = bytes.length - 1; index >= 0; index--)
    value = (value << 8n) | BigInt(bytes[index])
  return value
}

async function sha512(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-512', concatBytes(...parts)))
}

/** The secret scalar and the nonce prefix of a seed (RFC 8032 §5.1.5). */
async function expandSeed(seed: Uint8Array) {
  if (seed.length !== 32) throw new TypeError('An Ed25519 seed has 32 bytes')
  const hash = await sha512(seed)
  const scalarBytes = copyBytes(hash.subarray(0, 32))
  scalarBytes[0] &= 248
  scalarBytes[31] &= 127
  scalarBytes[31] |= 64
  return { scalar: littleEndianNumber(scalarBytes), prefix: hash.subarray(32, 64) }
}

/** The 32-byte public key of a 32-byte seed. */
export async function softwarePublicKey(seed: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const { scalar } = await expandSeed(seed)
  return encodePoint(multiply(BASE, scalar))
}

/** An Ed25519 signature (64 bytes) of the message with the seed (RFC 8032 §5.1.6). */
export async function softwareSign(
  seed: Uint8Array,
  message: Uint8Array
): Promise<Uint8Array<ArrayBuffer>> {
  const { scalar, prefix } = await expandSeed(seed)
  const publicKey = encodePoint(multiply(BASE, scalar))
  const r = mod(littleEndianNumber(await sha512(prefix, message)), L)
  const encodedR = encodePoint(multiply(BASE, r))
  const k = mod(littleEndianNumber(await sha512(encodedR, publicKey, message)), L)
  const s = mod(r + k * scalar, L)
  return concatBytes(encodedR, littleEndianBytes(s))
}
