/**
 * Test vectors for docs/campus-code-vectors.json: fixed seeds, fixed times,
 * so every byte is reproducible (Ed25519 signatures are deterministic).
 * `node ace campus-code:vectors` writes the file from here, and a test
 * checks that the committed file still matches the library.
 */
import { base45Encode } from './base45.js'
import { concatBytes, fromHex, toBase64Url, toHex } from './bytes.js'
import { makeCode } from './code.js'
import { credentialSigningInput, issueCredential } from './credential.js'
import { importPrivateKeySeed, issuerKeyIdOf, publicKeyOfSeed, signMessage } from './keys.js'
import {
  CREDENTIAL_BODY_LENGTH,
  encodeCredentialBody,
  issuerKeyIdBytes,
  LABELS,
  OFFSETS,
  type CredentialFields,
  type PermissionTag,
} from './layout.js'
import type { VerifyBackend } from './backend.js'
import { blacklistOf, createIssuerKeyRing, verifyCode, type IssuerKeyEntry } from './verify.js'

/** 2026-01-01T00:00:00Z */
const ISSUED_AT = 1767225600
const DAY = 86400
const SKEW = 90
const LIFETIME = 60

const SEEDS = {
  issuer: '11'.repeat(32),
  issuerNext: '22'.repeat(32),
  device: '33'.repeat(32),
}

interface VectorKey {
  seed: string
  publicKey: string
}

interface IssuerVectorKey extends VectorKey {
  kid: string
  codeKeyId: string
}

export interface VectorCase {
  name: string
  description: string
  text: string
  verify: {
    now: number
    clockSkewSeconds: number
    codeLifetimeSeconds: number
    issuerKeys: Array<{ kid: string; publicKey: string; retiredAt: number | null }>
    blacklist: { cardNos: string[]; devicePublicKeys: string[] }
  }
  expect:
    | {
        ok: true
        cardNo: string
        cardType: number
        permissions: PermissionTag[]
        offlineLimits: CredentialFields['offlineLimits']
        issuerKid: string
        codeTime: number
        counter: number
        codeId: string
        acceptUntil: number
      }
    | { ok: false; error: string }
}

export interface CampusCodeVectors {
  description: string
  format: number
  labels: typeof LABELS
  keys: { issuer: IssuerVectorKey; issuerNext: IssuerVectorKey; device: VectorKey }
  credential: {
    fields: Omit<CredentialFields, 'devicePublicKey' | 'permissions'> & {
      devicePublicKey: string
      permissions: PermissionTag[]
    }
    hex: string
    base64url: string
  }
  code: { codeTime: number; counter: number; hex: string; text: string; codeId: string }
  replay: { description: string; texts: string[]; now: number; expect: string[] }
  cases: VectorCase[]
}

/** Builds every vector from the fixed seeds. */
export async function buildVectors(): Promise<CampusCodeVectors> {
  const issuerSeed = fromHex(SEEDS.issuer)
  const issuerNextSeed = fromHex(SEEDS.issuerNext)
  const deviceSeed = fromHex(SEEDS.device)
  const issuerKey = await importPrivateKeySeed(issuerSeed)
  const issuerNextKey = await importPrivateKeySeed(issuerNextSeed)
  const deviceKey = await importPrivateKeySeed(deviceSeed)

  const describeIssuer = async (seed: string, publicKey: Uint8Array): Promise<IssuerVectorKey> => {
    const kid = await issuerKeyIdOf(publicKey)
    return { seed, publicKey: toHex(publicKey), kid, codeKeyId: toHex(issuerKeyIdBytes(kid)) }
  }
  const issuer = await describeIssuer(SEEDS.issuer, await publicKeyOfSeed(issuerSeed))
  const issuerNext = await describeIssuer(SEEDS.issuerNext, await publicKeyOfSeed(issuerNextSeed))
  const devicePublicKey = await publicKeyOfSeed(deviceSeed)

  const fields: CredentialFields = {
    cardNo: '260123456782',
    cardType: 1,
    devicePublicKey,
    issuedAt: ISSUED_AT,
    validFrom: ISSUED_AT,
    validUntil: ISSUED_AT + 7 * DAY,
    offlineLimits: { maxCountPerDay: 20, maxAmountPerDayFen: 30000, maxSingleAmountFen: 5000 },
    permissions: ['payment', 'access', 'sign_in'],
  }
  const credential = await issueCredential(fields, issuerKey, issuer.kid)
  const codeTime = ISSUED_AT + 3600
  const code = await makeCode(credential, deviceKey, { now: codeTime, counter: 7 })

  const ring = (...keys: Array<[IssuerVectorKey, number | null]>) =>
    keys.map(([key, retiredAt]) => ({ kid: key.kid, publicKey: key.publicKey, retiredAt }))
  const plain = ring([issuer, null])
  const noBlacklist = { cardNos: [], devicePublicKeys: [] }

  const cases: Array<Omit<VectorCase, 'expect'>> = []
  const add = (
    name: string,
    description: string,
    text: string,
    verify: Partial<VectorCase['verify']> & { now: number }
  ) =>
    cases.push({
      name,
      description,
      text,
      verify: {
        clockSkewSeconds: SKEW,
        codeLifetimeSeconds: LIFETIME,
        issuerKeys: plain,
        blacklist: noBlacklist,
        ...verify,
      },
    })
  const acceptUntil = codeTime + LIFETIME + SKEW

  add('valid', 'The code 10 s after it was made.', code.text, { now: codeTime + 10 })
  add(
    'valid_last_second',
    'The last second the code is accepted: time + lifetime + skew.',
    code.text,
    {
      now: acceptUntil,
    }
  )
  add('valid_verifier_clock_behind', 'The verifier clock 90 s behind the device.', code.text, {
    now: codeTime - SKEW,
  })
  add('code_expired', 'One second after the last accepted second.', code.text, {
    now: acceptUntil + 1,
  })
  add('code_from_future', 'The code time 91 s ahead of the verifier clock.', code.text, {
    now: codeTime - SKEW - 1,
  })
  add('credential_not_yet_valid', 'Verified 91 s before the credential starts.', code.text, {
    now: fields.validFrom - SKEW - 1,
  })

  const late = await makeCode(credential, deviceKey, { now: fields.validUntil + SKEW, counter: 8 })
  add(
    'credential_expired',
    'A fresh code made by a device still holding a credential that ended 90 s ago.',
    late.text,
    { now: fields.validUntil + SKEW }
  )

  // Forged issuer signature: flip one bit of it, and let the device sign the result.
  const forged = credential.slice()
  forged[OFFSETS.issuerSignature + 10] ^= 0x01
  const forgedCode = await makeCode(forged, deviceKey, { now: codeTime, counter: 7 })
  add(
    'bad_issuer_signature',
    'One bit of the issuer signature flipped; the device signature over it is valid.',
    forgedCode.text,
    { now: codeTime + 10 }
  )

  // Tampered code: the counter changed after the device signed.
  const tampered = code.bytes.slice()
  tampered[OFFSETS.counter + 1] ^= 0x01
  add(
    'bad_device_signature',
    'The counter changed after signing (7 → 6).',
    base45Encode(tampered),
    { now: codeTime + 10 }
  )

  add('unknown_issuer_key', 'Only another issuer key is known.', code.text, {
    now: codeTime + 10,
    issuerKeys: ring([issuerNext, null]),
  })
  add(
    'issuer_key_retired',
    'The issuer key was rotated out one second before it signed the credential.',
    code.text,
    { now: codeTime + 10, issuerKeys: ring([issuer, ISSUED_AT - 1], [issuerNext, null]) }
  )
  add(
    'valid_after_rotation',
    'The key was rotated out after it signed the credential: its credentials stay valid.',
    code.text,
    { now: codeTime + 10, issuerKeys: ring([issuer, ISSUED_AT + 60], [issuerNext, null]) }
  )

  const renewed = await issueCredential(
    {
      ...fields,
      issuedAt: ISSUED_AT + 120,
      validFrom: ISSUED_AT + 120,
      validUntil: ISSUED_AT + 120 + 7 * DAY,
    },
    issuerNextKey,
    issuerNext.kid
  )
  const renewedCode = await makeCode(renewed, deviceKey, { now: codeTime + 30, counter: 9 })
  add('valid_new_issuer_key', 'A credential signed by the new current key.', renewedCode.text, {
    now: codeTime + 40,
    issuerKeys: ring([issuer, ISSUED_AT + 60], [issuerNext, null]),
  })

  // A correctly signed credential that claims 8 days: issueCredential refuses
  // to make one, so the body is patched and signed here directly.
  const body = encodeCredentialBody(fields, issuerKeyIdBytes(issuer.kid))
  new DataView(body.buffer).setUint32(OFFSETS.validUntil, ISSUED_AT + 8 * DAY)
  const tooLong = concatBytes(
    body,
    await signMessage(issuerKey, credentialSigningInput(body.subarray(0, CREDENTIAL_BODY_LENGTH)))
  )
  const tooLongCode = await makeCode(tooLong, deviceKey, { now: codeTime, counter: 7 })
  add(
    'credential_invalid',
    'A signed credential valid for 8 days (the limit is 7).',
    tooLongCode.text,
    {
      now: codeTime + 10,
    }
  )

  add('card_blacklisted', 'The card number is on the blacklist.', code.text, {
    now: codeTime + 10,
    blacklist: { cardNos: [fields.cardNo], devicePublicKeys: [] },
  })
  add('device_blacklisted', 'The device key is on the blacklist (a lost phone).', code.text, {
    now: codeTime + 10,
    blacklist: { cardNos: [], devicePublicKeys: [toHex(devicePublicKey)] },
  })
  add(
    'malformed_character',
    'A character outside the Base45 alphabet (lower-case letter).',
    'a' + code.text.slice(1),
    { now: codeTime + 10 }
  )
  add(
    'malformed_text_length',
    'The text lost its last character (length 3k+1).',
    code.text.slice(0, -1),
    {
      now: codeTime + 10,
    }
  )
  add(
    'malformed_byte_length',
    'Valid Base45 of the code without its last byte.',
    base45Encode(code.bytes.subarray(0, -1)),
    {
      now: codeTime + 10,
    }
  )
  add(
    'malformed_not_a_campus_code',
    'Base45 of other data (first byte not 0xC_).',
    base45Encode(new TextEncoder().encode('HELLO, CAMPUS')),
    {
      now: codeTime + 10,
    }
  )
  const future = code.bytes.slice()
  future[OFFSETS.format] = 0xc2
  add(
    'unsupported_version',
    'First byte 0xC2: a campus code of a later format.',
    base45Encode(future),
    {
      now: codeTime + 10,
    }
  )

  const finished: VectorCase[] = []
  for (const vector of cases) finished.push({ ...vector, expect: await runVectorCase(vector) })

  return {
    description:
      'Campus code format 1 test vectors (docs/campus-code.md). Keys come from the seeds (RFC 8032 private keys); times are Unix seconds; byte strings are hex.',
    format: 1,
    labels: LABELS,
    keys: { issuer, issuerNext, device: { seed: SEEDS.device, publicKey: toHex(devicePublicKey) } },
    credential: {
      fields: {
        ...fields,
        devicePublicKey: toHex(devicePublicKey),
        permissions: [...fields.permissions],
      },
      hex: toHex(credential),
      base64url: toBase64Url(credential),
    },
    code: {
      codeTime,
      counter: 7,
      hex: toHex(code.bytes),
      text: code.text,
      codeId: (finished[0].expect as { codeId: string }).codeId,
    },
    replay: {
      description:
        'The same code presented twice to one verifier with a replay guard: the second is a replay.',
      texts: [code.text, code.text],
      now: codeTime + 10,
      expect: ['ok', 'code_replayed'],
    },
    cases: finished,
  }
}

/** Verifies one vector case with the library and reports the outcome in the vector's shape. */
export async function runVectorCase(
  vector: Omit<VectorCase, 'expect'>,
  options: { backend?: VerifyBackend; inBackground?: boolean } = {}
): Promise<VectorCase['expect']> {
  const entries: IssuerKeyEntry[] = vector.verify.issuerKeys.map((key) => ({
    publicKey: fromHex(key.publicKey),
    retiredAt: key.retiredAt,
  }))
  const result = await verifyCode(vector.text, {
    issuerKeys: await createIssuerKeyRing(entries, options),
    inBackground: options.inBackground,
    now: vector.verify.now,
    clockSkewSeconds: vector.verify.clockSkewSeconds,
    codeLifetimeSeconds: vector.verify.codeLifetimeSeconds,
    isBlacklisted: blacklistOf(vector.verify.blacklist),
  })
  if (!result.ok) return { ok: false, error: result.error }
  const value = result.value
  return {
    ok: true,
    cardNo: value.cardNo,
    cardType: value.cardType,
    permissions: [...value.permissions],
    offlineLimits: value.offlineLimits,
    issuerKid: value.issuerKid,
    codeTime: value.codeTime,
    counter: value.counter,
    codeId: value.codeId,
    acceptUntil: value.acceptUntil,
  }
}
