/**
 * The campus-code library on its own: Base45, the binary layout, signing,
 * every refusal of verifyCode, one-time use and the QR size budget. Pure
 * and fast: no application, no database.
 */
import test from 'ava'
import QRCode from 'qrcode'
import {
  acceptCode,
  base45Decode,
  base45Encode,
  blacklistOf,
  CODE_LENGTH,
  createIssuerKeyRing,
  credentialNeedsRenewal,
  decodeCode,
  decodeCredential,
  DEFAULT_REPLAY_FREEZE_POLICY,
  fromHex,
  generateDeviceKeys,
  importPrivateKeySeed,
  issueCredential,
  issuerKeyIdOf,
  makeCode,
  MAX_CODE_BYTES,
  MemoryReplayGuard,
  OFFSETS,
  proveDeviceKey,
  publicKeyOfSeed,
  replaysReachFreeze,
  toHex,
  verifyCode,
  verifyDeviceKeyProof,
  type CredentialFields,
  type IssuerKeyRing,
} from '#cards/campus_code/index'

const T0 = 1767225600
const DAY = 86400

interface World {
  issuerKey: CryptoKey
  issuerPublic: Uint8Array
  kid: string
  ring: IssuerKeyRing
  device: Awaited<ReturnType<typeof generateDeviceKeys>>
  fields: CredentialFields
  credential: Uint8Array
}
type CryptoKey = Awaited<ReturnType<typeof importPrivateKeySeed>>

async function givenIssuer(seedByte: number) {
  const seed = new Uint8Array(32).fill(seedByte)
  const issuerPublic = await publicKeyOfSeed(seed)
  return {
    issuerKey: await importPrivateKeySeed(seed),
    issuerPublic,
    kid: await issuerKeyIdOf(issuerPublic),
  }
}

async function givenWorld(overrides: Partial<CredentialFields> = {}): Promise<World> {
  const issuer = await givenIssuer(0x41)
  const device = await generateDeviceKeys()
  const fields: CredentialFields = {
    cardNo: '260123456782',
    cardType: 2,
    devicePublicKey: device.publicKey,
    issuedAt: T0,
    validFrom: T0,
    validUntil: T0 + 7 * DAY,
    offlineLimits: { maxCountPerDay: 10, maxAmountPerDayFen: 20000, maxSingleAmountFen: 3000 },
    permissions: ['payment', 'sign_in'],
    ...overrides,
  }
  return {
    ...issuer,
    ring: await createIssuerKeyRing(new Map([[issuer.kid, issuer.issuerPublic]])),
    device,
    fields,
    credential: await issueCredential(fields, issuer.issuerKey, issuer.kid),
  }
}

async function codeAt(world: World, now: number, counter = 1) {
  return makeCode(world.credential, world.device.privateKey, { now, counter })
}

async function refusal(promise: Promise<{ ok: boolean; error?: string }>) {
  const result = await promise
  return result.ok ? 'ok' : result.error
}

test('Base45 matches the examples of RFC 9285', (t) => {
  const text = (value: string) => base45Encode(new TextEncoder().encode(value))
  t.is(text('AB'), 'BB8')
  t.is(text('Hello!!'), '%69 VD92EX0')
  t.is(text('base-45'), 'UJCLQE7W581')
  const decoded = base45Decode('QED8WEX0')
  t.true(decoded.ok)
  if (decoded.ok) t.is(new TextDecoder().decode(decoded.value), 'ietf!')
})

test('Base45 round-trips every byte value and every length', (t) => {
  for (let length = 0; length < 40; length++) {
    const bytes = Uint8Array.from({ length }, (_, index) => (index * 97 + length * 31) & 0xff)
    const decoded = base45Decode(base45Encode(bytes))
    t.true(decoded.ok && toHex(decoded.value) === toHex(bytes), `length ${length}`)
  }
  const all = Uint8Array.from({ length: 256 }, (_, index) => index)
  const decoded = base45Decode(base45Encode(all))
  t.true(decoded.ok && toHex(decoded.value) === toHex(all))
})

test('Base45 decoding refuses what RFC 9285 says to refuse', (t) => {
  const error = (text: string) => {
    const result = base45Decode(text)
    return result.ok ? 'ok' : result.error
  }
  t.is(error('GGW'), 'base45_out_of_range', '65536 does not fit two bytes')
  t.is(error(':::'), 'base45_out_of_range')
  t.is(error('ZZ'), 'base45_out_of_range', '1610 does not fit one byte')
  t.is(error('BB8A'), 'base45_invalid_length')
  t.is(error('bb8'), 'base45_invalid_character', 'lower case is not in the alphabet')
  t.is(error('BB\n'), 'base45_invalid_character')
  t.is(error('FGW'), 'ok', '65535 is the largest triple')
})

test('a code made by the device verifies and carries the credential', async (t) => {
  const world = await givenWorld()
  const code = await codeAt(world, T0 + 3600, 42)
  t.is(code.bytes.length, CODE_LENGTH)
  t.true(code.bytes.length <= MAX_CODE_BYTES)
  t.regex(code.text, /^[0-9A-Z $%*+\-./:]+$/)

  const result = await verifyCode(code.text, { issuerKeys: world.ring, now: T0 + 3610 })
  if (!result.ok) return t.fail(result.error)
  const value = result.value
  t.is(value.cardNo, '260123456782')
  t.is(value.cardType, 2)
  t.deepEqual([...value.permissions], ['payment', 'sign_in'])
  t.deepEqual(value.offlineLimits, world.fields.offlineLimits)
  t.is(value.issuerKid, world.kid)
  t.is(value.codeTime, T0 + 3600)
  t.is(value.counter, 42)
  t.regex(value.codeId, /^[0-9a-f]{32}$/)
  t.is(toHex(value.credential.devicePublicKey), toHex(world.device.publicKey))
  t.is(value.credential.validUntil, T0 + 7 * DAY)
})

test('a software-signed code verifies like a WebCrypto one', async (t) => {
  const world = await givenWorld()
  const device = await generateDeviceKeys({ implementation: 'software' })
  t.is(device.implementation, 'software')
  const credential = await issueCredential(
    { ...world.fields, devicePublicKey: device.publicKey },
    world.issuerKey,
    world.kid
  )
  const code = await makeCode(credential, device.privateKey, { now: T0 + 60, counter: 1 })
  t.is(await refusal(verifyCode(code.text, { issuerKeys: world.ring, now: T0 + 60 })), 'ok')
})

test('the device private key made with WebCrypto cannot be exported', async (t) => {
  const device = await generateDeviceKeys({ implementation: 'webcrypto' })
  t.is(device.implementation, 'webcrypto')
  const privateKey = device.privateKey as CryptoKey
  t.false(privateKey.extractable)
  await t.throwsAsync(crypto.subtle.exportKey('pkcs8', privateKey))
})

test('card numbers keep their leading zeros and all sixteen digits', async (t) => {
  for (const cardNo of ['0000000000000001', '9999999999999999', '7', '001234567890']) {
    const world = await givenWorld({ cardNo })
    const decoded = decodeCredential(world.credential)
    t.true(decoded.ok && decoded.value.cardNo === cardNo, cardNo)
  }
  const world = await givenWorld()
  t.is(
    toHex(world.credential.subarray(OFFSETS.cardNo, OFFSETS.cardType)),
    '260123456782ffff',
    'packed BCD, padded with F'
  )
})

test('issueCredential refuses fields out of range', async (t) => {
  const world = await givenWorld()
  const issue = (overrides: Partial<CredentialFields>) =>
    issueCredential({ ...world.fields, ...overrides }, world.issuerKey, world.kid)
  await t.throwsAsync(issue({ cardNo: '12345678901234567' }), { instanceOf: RangeError })
  await t.throwsAsync(issue({ cardNo: '12a4' }), { instanceOf: RangeError })
  await t.throwsAsync(issue({ cardType: 256 }), { instanceOf: RangeError })
  await t.throwsAsync(issue({ validUntil: T0 + 7 * DAY + 1 }), { message: /at most 7 days/ })
  await t.throwsAsync(issue({ validUntil: T0 }), { instanceOf: RangeError })
  await t.throwsAsync(issue({ devicePublicKey: new Uint8Array(31) }), { instanceOf: RangeError })
  await t.throwsAsync(
    issue({ offlineLimits: { ...world.fields.offlineLimits, maxCountPerDay: 256 } }),
    { instanceOf: RangeError }
  )
  await t.throwsAsync(
    issue({ offlineLimits: { ...world.fields.offlineLimits, maxSingleAmountFen: 1.5 } }),
    { instanceOf: RangeError }
  )
  await t.throwsAsync(issue({ permissions: ['teleport' as 'payment'] }), { instanceOf: RangeError })
  await t.throwsAsync(
    makeCode(world.credential, world.device.privateKey, { now: T0, counter: 65536 }),
    { instanceOf: RangeError }
  )
})

test('refuses a forged issuer signature even when the device signature is valid', async (t) => {
  const world = await givenWorld()
  const forged = world.credential.slice()
  forged[OFFSETS.issuerSignature] ^= 0x80
  const code = await makeCode(forged, world.device.privateKey, { now: T0 + 10, counter: 1 })
  t.is(
    await refusal(verifyCode(code.text, { issuerKeys: world.ring, now: T0 + 10 })),
    'bad_issuer_signature'
  )
})

test('refuses a credential signed by a key that only claims the issuer key id', async (t) => {
  const world = await givenWorld()
  const impostor = await givenIssuer(0x99)
  // Signed by another key but labelled with the real issuer's key id.
  const credential = await issueCredential(world.fields, impostor.issuerKey, world.kid)
  const code = await makeCode(credential, world.device.privateKey, { now: T0 + 10, counter: 1 })
  t.is(
    await refusal(verifyCode(code.text, { issuerKeys: world.ring, now: T0 + 10 })),
    'bad_issuer_signature'
  )
})

test('refuses a code signed by another device key', async (t) => {
  const world = await givenWorld()
  const thief = await generateDeviceKeys()
  const code = await makeCode(world.credential, thief.privateKey, { now: T0 + 10, counter: 1 })
  t.is(
    await refusal(verifyCode(code.text, { issuerKeys: world.ring, now: T0 + 10 })),
    'bad_device_signature'
  )
})

test('a change to any single byte of a code is refused', async (t) => {
  const world = await givenWorld()
  const code = await codeAt(world, T0 + 10)
  const accepted: number[] = []
  for (let index = 0; index < code.bytes.length; index++) {
    const tampered = code.bytes.slice()
    tampered[index] ^= 0x01
    const result = await verifyCode(base45Encode(tampered), {
      issuerKeys: world.ring,
      now: T0 + 10,
    })
    if (result.ok) accepted.push(index)
  }
  t.deepEqual(accepted, [], 'no tampered byte position verifies')
})

test('refuses a code whose credential has expired or has not started', async (t) => {
  const world = await givenWorld()
  const late = await codeAt(world, T0 + 7 * DAY + 90)
  t.is(
    await refusal(verifyCode(late.text, { issuerKeys: world.ring, now: T0 + 7 * DAY + 90 })),
    'credential_expired'
  )
  const ok = await codeAt(world, T0 + 7 * DAY + 89)
  t.is(await refusal(verifyCode(ok.text, { issuerKeys: world.ring, now: T0 + 7 * DAY + 89 })), 'ok')

  const future = await givenWorld({ validFrom: T0 + DAY, validUntil: T0 + 2 * DAY })
  const early = await codeAt(future, T0 + DAY - 91)
  t.is(
    await refusal(verifyCode(early.text, { issuerKeys: future.ring, now: T0 + DAY - 91 })),
    'credential_not_yet_valid'
  )
})

test('refuses codes from the future or too old beyond the clock tolerance', async (t) => {
  const world = await givenWorld()
  const code = await codeAt(world, T0 + 1000)
  const at = (
    now: number,
    options: { clockSkewSeconds?: number; codeLifetimeSeconds?: number } = {}
  ) => refusal(verifyCode(code.text, { issuerKeys: world.ring, now, ...options }))
  t.is(await at(T0 + 1000 - 90), 'ok', 'device clock 90 s ahead is tolerated')
  t.is(await at(T0 + 1000 - 91), 'code_from_future')
  t.is(await at(T0 + 1000 + 60 + 90), 'ok', 'lifetime 60 s plus 90 s tolerance')
  t.is(await at(T0 + 1000 + 60 + 91), 'code_expired')
  t.is(await at(T0 + 1000 - 11, { clockSkewSeconds: 10 }), 'code_from_future')
  t.is(await at(T0 + 1000 + 41, { clockSkewSeconds: 10, codeLifetimeSeconds: 30 }), 'code_expired')
})

test('refuses a code whose issuer key is unknown', async (t) => {
  const world = await givenWorld()
  const other = await givenIssuer(0x42)
  const ring = await createIssuerKeyRing(new Map([[other.kid, other.issuerPublic]]))
  const code = await codeAt(world, T0 + 10)
  t.is(
    await refusal(verifyCode(code.text, { issuerKeys: ring, now: T0 + 10 })),
    'unknown_issuer_key'
  )
  t.is(
    await refusal(
      verifyCode(code.text, { issuerKeys: await createIssuerKeyRing([]), now: T0 + 10 })
    ),
    'unknown_issuer_key'
  )
})

test('refuses a blacklisted card and a blacklisted device key', async (t) => {
  const world = await givenWorld()
  const code = await codeAt(world, T0 + 10)
  const verify = (isBlacklisted: ReturnType<typeof blacklistOf>) =>
    refusal(verifyCode(code.text, { issuerKeys: world.ring, now: T0 + 10, isBlacklisted }))
  t.is(await verify(blacklistOf({ cardNos: ['260123456782'] })), 'card_blacklisted')
  t.is(
    await verify(blacklistOf({ devicePublicKeys: [toHex(world.device.publicKey).toUpperCase()] })),
    'card_blacklisted'
  )
  t.is(await verify(blacklistOf({ cardNos: ['260123456790'] })), 'ok')
  t.is(
    await refusal(
      verifyCode(code.text, {
        issuerKeys: world.ring,
        now: T0 + 10,
        isBlacklisted: async () => true,
      })
    ),
    'card_blacklisted'
  )
})

test('refuses malformed text and a later format version', async (t) => {
  const world = await givenWorld()
  const code = await codeAt(world, T0 + 10)
  const verify = (text: string) =>
    refusal(verifyCode(text, { issuerKeys: world.ring, now: T0 + 10 }))
  t.is(await verify(''), 'malformed')
  t.is(await verify(code.text.toLowerCase()), 'malformed')
  t.is(await verify(code.text + '\n'), 'malformed')
  t.is(await verify(code.text.slice(0, -1)), 'malformed')
  t.is(await verify(code.text + '00'), 'malformed', 'one byte too many')
  t.is(await verify('X'.repeat(5000)), 'malformed')
  t.is(await verify(base45Encode(new TextEncoder().encode('https://example.com/'))), 'malformed')

  const later = code.bytes.slice()
  later[0] = 0xc2
  t.is(await verify(base45Encode(later)), 'unsupported_version')
  t.is(decodeCode(later).ok, false)

  const badBcd = code.bytes.slice()
  badBcd[OFFSETS.cardNo] = 0xa1
  t.is(await verify(base45Encode(badBcd)), 'malformed')
})

test('a code accepted once is refused as a replay on the same and on another terminal', async (t) => {
  const world = await givenWorld()
  const code = await codeAt(world, T0 + 10, 5)
  const server = new MemoryReplayGuard()
  const terminalA = new MemoryReplayGuard()
  const terminalB = new MemoryReplayGuard()
  const accept = (guard: MemoryReplayGuard, now = T0 + 12) =>
    refusal(acceptCode(code.text, { issuerKeys: world.ring, now, replayGuard: guard }))

  t.is(await accept(terminalA), 'ok')
  t.is(await accept(terminalA), 'code_replayed', 'same terminal, offline')
  // Terminal B is offline too and has never seen it: only the server's
  // one-time check (every online terminal's answer) catches the copy.
  t.is(await accept(server), 'ok', 'terminal A online')
  t.is(await accept(server), 'code_replayed', 'terminal B online')
  t.is(await accept(terminalB), 'ok', 'an offline terminal that never saw it')
  t.is(await accept(server, T0 + 100), 'code_replayed', 'its offline record uploaded later')
})

test('the same device time and counter is a replay even under a renewed credential', async (t) => {
  const world = await givenWorld()
  const renewed = await issueCredential(
    { ...world.fields, issuedAt: T0 + 5, validFrom: T0 + 5, validUntil: T0 + 5 + DAY },
    world.issuerKey,
    world.kid
  )
  const first = await makeCode(world.credential, world.device.privateKey, {
    now: T0 + 10,
    counter: 3,
  })
  const second = await makeCode(renewed, world.device.privateKey, { now: T0 + 10, counter: 3 })
  const next = await makeCode(renewed, world.device.privateKey, { now: T0 + 10, counter: 4 })
  t.not(first.text, second.text)
  const guard = new MemoryReplayGuard()
  const accept = (text: string) =>
    refusal(acceptCode(text, { issuerKeys: world.ring, now: T0 + 10, replayGuard: guard }))
  t.is(await accept(first.text), 'ok')
  t.is(await accept(second.text), 'code_replayed')
  t.is(await accept(next.text), 'ok', 'a new counter in the same second is a new code')
})

test('the in-memory guard forgets codes that can no longer verify and stays bounded', async (t) => {
  const guard = new MemoryReplayGuard({ maxEntries: 100 })
  for (let index = 0; index < 50; index++) {
    const claimed = await guard.claim(
      { codeId: `old-${index}`, cardNo: '1', codeTime: T0, acceptUntil: T0 + 150 },
      T0
    )
    t.true(claimed.ok)
  }
  t.is(guard.size, 50)
  await guard.claim(
    { codeId: 'new', cardNo: '1', codeTime: T0 + 200, acceptUntil: T0 + 350 },
    T0 + 200
  )
  t.is(guard.size, 1, 'expired claims are dropped')
  for (let index = 0; index < 250; index++) {
    await guard.claim(
      { codeId: `burst-${index}`, cardNo: '1', codeTime: T0 + 200, acceptUntil: T0 + 350 },
      T0 + 200
    )
  }
  t.true(guard.size <= 100)
  const again = await guard.claim(
    { codeId: 'burst-249', cardNo: '1', codeTime: T0 + 200, acceptUntil: T0 + 350 },
    T0 + 201
  )
  t.false(again.ok, 'the newest claims are kept')
})

test('replays freeze a card at the configured count within the window', (t) => {
  const policy = DEFAULT_REPLAY_FREEZE_POLICY
  t.false(replaysReachFreeze([T0, T0 + 60], T0 + 60, policy))
  t.true(replaysReachFreeze([T0, T0 + 60, T0 + 120], T0 + 120, policy))
  t.false(
    replaysReachFreeze([T0, T0 + 60, T0 + 700], T0 + 700, policy),
    'the first fell out of 10 min'
  )
  t.true(replaysReachFreeze([T0, T0 + 1], T0 + 1, { maxReplays: 2, windowSeconds: 60 }))
})

test('after a rotation the old key still verifies its credentials, but signs nothing new', async (t) => {
  const world = await givenWorld()
  const next = await givenIssuer(0x43)
  const rotatedAt = T0 + 60
  const ring = await createIssuerKeyRing(
    new Map<string, { publicKey: Uint8Array; retiredAt: number | null }>([
      [world.kid, { publicKey: world.issuerPublic, retiredAt: rotatedAt }],
      [next.kid, { publicKey: next.issuerPublic, retiredAt: null }],
    ])
  )
  const old = await codeAt(world, T0 + 120)
  const verified = await verifyCode(old.text, { issuerKeys: ring, now: T0 + 120 })
  t.true(verified.ok && verified.value.issuerKid === world.kid)

  const renewed = await issueCredential(
    { ...world.fields, issuedAt: T0 + 120 },
    next.issuerKey,
    next.kid
  )
  const fresh = await makeCode(renewed, world.device.privateKey, { now: T0 + 130, counter: 2 })
  const verifiedFresh = await verifyCode(fresh.text, { issuerKeys: ring, now: T0 + 130 })
  t.true(verifiedFresh.ok && verifiedFresh.value.issuerKid === next.kid)

  const lateOld = await issueCredential(
    { ...world.fields, issuedAt: T0 + 120 },
    world.issuerKey,
    world.kid
  )
  const lateCode = await makeCode(lateOld, world.device.privateKey, { now: T0 + 130, counter: 3 })
  t.is(
    await refusal(verifyCode(lateCode.text, { issuerKeys: ring, now: T0 + 130 })),
    'issuer_key_retired'
  )
})

test('a key ring refuses a key listed under another key id', async (t) => {
  const world = await givenWorld()
  await t.throwsAsync(createIssuerKeyRing(new Map([['AAAAAAAAAAA', world.issuerPublic]])), {
    message: /has key id/,
  })
})

test('the QR code of the largest field values fits version 10 at level M in alphanumeric mode', async (t) => {
  const issuer = await givenIssuer(0xff)
  const device = await generateDeviceKeys()
  const credential = await issueCredential(
    {
      cardNo: '9999999999999999',
      cardType: 255,
      devicePublicKey: device.publicKey,
      issuedAt: 0xffffffff - 7 * DAY,
      validFrom: 0xffffffff - 7 * DAY,
      validUntil: 0xffffffff,
      offlineLimits: {
        maxCountPerDay: 255,
        maxAmountPerDayFen: 0xffffffff,
        maxSingleAmountFen: 0xffffffff,
      },
      permissions: ['payment', 'access', 'sign_in'],
    },
    issuer.issuerKey,
    issuer.kid
  )
  const texts = [
    (await makeCode(credential, device.privateKey, { now: 0xffffffff, counter: 0xffff })).text,
  ]
  const world = await givenWorld()
  for (let counter = 0; counter < 20; counter++)
    texts.push((await codeAt(world, T0 + counter, counter)).text)
  for (const text of texts) {
    t.is(text.length, 305)
    const qr = QRCode.create([{ data: text, mode: 'alphanumeric' }], { errorCorrectionLevel: 'M' })
    t.true(qr.version <= 10, `version ${qr.version}`)
    t.deepEqual(
      qr.segments.map((segment) => segment.mode.id),
      ['Alphanumeric']
    )
  }
})

test('an online portal renews a credential that is an hour old or ending', async (t) => {
  const world = await givenWorld()
  t.false(credentialNeedsRenewal(world.credential, { now: T0 + 60 }))
  t.true(credentialNeedsRenewal(world.credential, { now: T0 + 3600 }))
  t.true(credentialNeedsRenewal(world.credential, { now: T0 + 60, renewAfterSeconds: 30 }))
  t.true(credentialNeedsRenewal(world.credential, { now: T0 + 7 * DAY }))
  t.true(
    credentialNeedsRenewal(world.credential, { now: T0 + 60, devicePublicKey: new Uint8Array(32) }),
    'a credential for another device key'
  )
  t.true(credentialNeedsRenewal(fromHex('c1'), { now: T0 }), 'not a credential')
})

test('an activation proof binds the device key to the server challenge', async (t) => {
  const device = await generateDeviceKeys()
  const challenge = crypto.getRandomValues(new Uint8Array(16))
  const proof = await proveDeviceKey(device.privateKey, challenge)
  t.true(await verifyDeviceKeyProof(device.publicKey, challenge, proof))
  t.false(await verifyDeviceKeyProof(device.publicKey, new Uint8Array(16), proof))
  const other = await generateDeviceKeys()
  t.false(await verifyDeviceKeyProof(other.publicKey, challenge, proof))
})

test('refuses a device signature made malleable by adding the group order to S', async (t) => {
  const world = await givenWorld()
  const code = await codeAt(world, T0 + 10)
  const order = 2n ** 252n + 27742317777372353535851937790883648493n
  const start = OFFSETS.deviceSignature + 32
  let s = 0n
  for (let index = start + 31; index >= start; index--) s = (s << 8n) | BigInt(code.bytes[index])
  const malleated = code.bytes.slice()
  let bigger = s + order
  for (let index = start; index < start + 32; index++) {
    malleated[index] = Number(bigger & 0xffn)
    bigger >>= 8n
  }
  t.is(
    await refusal(verifyCode(base45Encode(malleated), { issuerKeys: world.ring, now: T0 + 10 })),
    'bad_device_signature'
  )
})
