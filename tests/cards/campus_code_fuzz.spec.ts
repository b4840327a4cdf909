/**
 * The campus-code verifier against what a scanner may hand it: thousands of
 * random texts, random bytes and mutations of a valid code. It never throws
 * and always answers a documented error code (docs/campus-code.md §7); only
 * the unchanged code is accepted.
 */
import test from 'ava'
import fc from 'fast-check'
import {
  acceptCode,
  BASE45_ALPHABET,
  base45Decode,
  base45Encode,
  CODE_LENGTH,
  createIssuerKeyRing,
  generateDeviceKeys,
  importPrivateKeySeed,
  issueCredential,
  issuerKeyIdOf,
  makeCode,
  MemoryReplayGuard,
  publicKeyOfSeed,
  VERIFY_ERRORS,
  verifyCode,
  type IssuerKeyRing,
} from '#cards/campus_code/index'

const T0 = 1767225600
const NOW = T0 + 3600 + 10

let ring: IssuerKeyRing
let valid: { text: string; bytes: Uint8Array }

test.before(async () => {
  const seed = new Uint8Array(32).fill(0x5a)
  const issuerPublic = await publicKeyOfSeed(seed)
  const kid = await issuerKeyIdOf(issuerPublic)
  ring = await createIssuerKeyRing(new Map([[kid, issuerPublic]]))
  const device = await generateDeviceKeys()
  const credential = await issueCredential(
    {
      cardNo: '260123456782',
      cardType: 1,
      devicePublicKey: device.publicKey,
      issuedAt: T0,
      validFrom: T0,
      validUntil: T0 + 7 * 86400,
      offlineLimits: { maxCountPerDay: 1, maxAmountPerDayFen: 100, maxSingleAmountFen: 100 },
      permissions: ['payment'],
    },
    await importPrivateKeySeed(seed),
    kid
  )
  const code = await makeCode(credential, device.privateKey, { now: T0 + 3600, counter: 3 })
  valid = { text: code.text, bytes: code.bytes }
})

const DOCUMENTED = new Set<string>(VERIFY_ERRORS)

/** The verifier's answer: 'ok', or an error code that must be documented. */
async function answer(text: string): Promise<string> {
  const result = await verifyCode(text, {
    issuerKeys: ring,
    now: NOW,
    isBlacklisted: (credential) => credential.cardNo === '000000000000',
  })
  if (result.ok) return 'ok'
  if (!DOCUMENTED.has(result.error)) throw new Error(`undocumented error ${result.error}`)
  return result.error
}

function sameBytes(a: Uint8Array, b: Uint8Array) {
  return a.length === b.length && a.every((byte, index) => byte === b[index])
}

test('the valid code verifies, then is a replay', async (t) => {
  t.is(await answer(valid.text), 'ok')
  const guard = new MemoryReplayGuard()
  t.true((await acceptCode(valid.text, { issuerKeys: ring, now: NOW, replayGuard: guard })).ok)
  t.like(await acceptCode(valid.text, { issuerKeys: ring, now: NOW, replayGuard: guard }), {
    ok: false,
    error: 'code_replayed',
  })
})

test('random text of any characters is refused as malformed, never thrown', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 1200 }), async (text) => {
      const result = await answer(text)
      return result === 'malformed' || result === 'unsupported_version'
    }),
    { numRuns: 3000 }
  )
  t.pass()
})

test('random text in the Base45 alphabet gets a documented refusal', async (t) => {
  const alphabet = fc.constantFrom(...BASE45_ALPHABET.split(''))
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: alphabet, maxLength: 400 }),
        fc.string({ unit: alphabet, minLength: 304, maxLength: 306 })
      ),
      async (text) => (await answer(text)) !== 'ok'
    ),
    { numRuns: 3000 }
  )
  t.pass()
})

test('random bytes of about a code’s length get a documented refusal', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 260 }),
        fc.uint8Array({ minLength: CODE_LENGTH, maxLength: CODE_LENGTH }),
        // A campus-code first byte, then anything.
        fc
          .uint8Array({ minLength: CODE_LENGTH - 1, maxLength: CODE_LENGTH - 1 })
          .map((rest) => Uint8Array.of(0xc1, ...rest))
      ),
      async (bytes) => (await answer(base45Encode(bytes))) !== 'ok'
    ),
    { numRuns: 3000 }
  )
  t.pass()
})

test('mutations of a valid code are refused unless they change nothing', async (t) => {
  const mutation = fc.oneof(
    // Flip one bit.
    fc.tuple(fc.nat(CODE_LENGTH - 1), fc.nat(7)).map(([at, bit]) => (bytes: Uint8Array) => {
      bytes[at] ^= 1 << bit
      return bytes
    }),
    // Overwrite a few bytes.
    fc
      .array(fc.tuple(fc.nat(CODE_LENGTH - 1), fc.nat(255)), { minLength: 1, maxLength: 4 })
      .map((writes) => (bytes: Uint8Array) => {
        for (const [at, value] of writes) bytes[at] = value
        return bytes
      }),
    // Cut, or extend.
    fc.nat(CODE_LENGTH - 1).map((length) => (bytes: Uint8Array) => bytes.slice(0, length)),
    fc
      .uint8Array({ minLength: 1, maxLength: 8 })
      .map((extra) => (bytes: Uint8Array) => Uint8Array.of(...bytes, ...extra))
  )
  await fc.assert(
    fc.asyncProperty(mutation, async (mutate) => {
      const bytes = mutate(valid.bytes.slice())
      const result = await answer(base45Encode(bytes))
      return result === 'ok' ? sameBytes(bytes, valid.bytes) : true
    }),
    { numRuns: 3000 }
  )
  // Text-level edits of the valid code.
  await fc.assert(
    fc.asyncProperty(
      fc.nat(valid.text.length - 1),
      fc.constantFrom(...`${BASE45_ALPHABET}abc\r\n\u00a0é`.split('')),
      async (at, character) => {
        const text = valid.text.slice(0, at) + character + valid.text.slice(at + 1)
        const result = await answer(text)
        return result === 'ok' ? text === valid.text : true
      }
    ),
    { numRuns: 2000 }
  )
  t.pass()
})

test('Base45 text never ends in a space, so form trimming only takes leading spaces', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
      const text = base45Encode(bytes)
      const decoded = base45Decode(text)
      return !text.endsWith(' ') && decoded.ok && sameBytes(decoded.value, bytes)
    }),
    { numRuns: 3000 }
  )
  // A format-1 code's second character is never a space.
  fc.assert(
    fc.property(fc.nat(255), (keyIdByte) => base45Encode(Uint8Array.of(0xc1, keyIdByte))[1] !== ' ')
  )
  t.pass()
})
