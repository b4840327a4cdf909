/**
 * Campus-code verification speed on one core: raw Ed25519 verifications
 * (node:crypto and WebCrypto, for the ratio: a code needs two), the
 * library's verifyCode and acceptCode with the in-memory replay guard (what
 * a terminal or the gateway runs per code), then the server's
 * verifyCampusCode with the database guard on SQLite and on PostgreSQL:
 * codes accepted one after another and several at once, and replays (each
 * recorded and audited in a transaction).
 *
 *   npm run bench campus_code [-- --codes 20000 --db-codes 3000 --concurrency 8 --db sqlite|pg]
 *
 * Codes are verified one at a time (await each), so the library figures
 * use one core: the main thread and one WebCrypto worker thread taking
 * turns; one more run keeps 32 codes in flight, whose WebCrypto jobs may
 * spread over libuv's thread pool. Pin the process
 * (`taskset -c 0 npm run bench campus_code`) to hold every run to one core.
 */
import { option, ranOnEachDatabase } from './support/cli.js'

const DAY = 86400

function rate(count: number, startedMs: number) {
  return count / ((performance.now() - startedMs) / 1000)
}

function print(title: string, rows: [string, number, string?][]) {
  console.log(`\n${title}`)
  const width = Math.max(...rows.map(([name]) => name.length))
  console.log(`  ${'run'.padEnd(width)}  per second`)
  for (const [name, perSecond, note] of rows)
    console.log(
      `  ${name.padEnd(width)}  ${perSecond.toFixed(0).padStart(10)}${note ? `  ${note}` : ''}`
    )
}

/** Library-level figures: no application, no database. */
async function libraryBench(codeCount: number) {
  const { sign, verify, generateKeyPairSync } = await import('node:crypto')
  const lib = await import('../app/cards/campus_code/index.js')
  const seed = new Uint8Array(32).fill(0x11)
  const issuerPublic = await lib.publicKeyOfSeed(seed)
  const kid = await lib.issuerKeyIdOf(issuerPublic)
  const ring = await lib.createIssuerKeyRing(new Map([[kid, issuerPublic]]))
  // The server's backend: node:crypto, synchronous.
  const { nodeCryptoBackend } = await import('../app/cards/services/node_code_crypto.js')
  const nodeRing = await lib.createIssuerKeyRing(new Map([[kid, issuerPublic]]), {
    backend: nodeCryptoBackend,
  })
  const device = await lib.generateDeviceKeys()
  const start = Math.floor(Date.now() / 1000) - 60
  const credential = await lib.issueCredential(
    {
      cardNo: '260123456782',
      cardType: 1,
      devicePublicKey: device.publicKey,
      issuedAt: start,
      validFrom: start,
      validUntil: start + 7 * DAY,
      offlineLimits: { maxCountPerDay: 20, maxAmountPerDayFen: 30000, maxSingleAmountFen: 5000 },
      permissions: ['payment', 'access'],
    },
    await lib.importPrivateKeySeed(seed),
    kid
  )
  const now = start + 60
  const texts: string[] = []
  for (let index = 0; index < codeCount; index++) {
    const code = await lib.makeCode(credential, device.privateKey, {
      now: now - Math.floor(index / 65536),
      counter: index % 65536,
    })
    texts.push(code.text)
  }

  // Raw Ed25519 over a message of a code's size.
  const keys = generateKeyPairSync('ed25519')
  const message = Buffer.alloc(13 + 139, 7)
  const signature = sign(null, message, keys.privateKey)
  const publicKey = keys.publicKey
  const rawCount = codeCount * 2
  let started = performance.now()
  for (let index = 0; index < rawCount; index++) {
    if (!verify(null, message, publicKey, signature)) throw new Error('raw verify failed')
  }
  const nodeRaw = rate(rawCount, started)

  const spki = keys.publicKey.export({ type: 'spki', format: 'der' })
  const webKey = await crypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, false, ['verify'])
  started = performance.now()
  for (let index = 0; index < rawCount; index++) {
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, webKey, signature, message)))
      throw new Error('WebCrypto verify failed')
  }
  const webRaw = rate(rawCount, started)

  started = performance.now()
  for (const text of texts) {
    const result = await lib.verifyCode(text, { issuerKeys: ring, now })
    if (!result.ok) throw new Error(result.error)
  }
  const verified = rate(texts.length, started)

  const guard = new lib.MemoryReplayGuard()
  started = performance.now()
  for (const text of texts) {
    const result = await lib.acceptCode(text, { issuerKeys: ring, now, replayGuard: guard })
    if (!result.ok) throw new Error(result.error)
  }
  const accepted = rate(texts.length, started)

  started = performance.now()
  for (const text of texts) {
    const result = await lib.acceptCode(text, { issuerKeys: ring, now, replayGuard: guard })
    if (result.ok || result.error !== 'code_replayed') throw new Error('replay accepted')
  }
  const replayed = rate(texts.length, started)

  const nodeGuard = new lib.MemoryReplayGuard()
  started = performance.now()
  for (const text of texts) {
    const result = await lib.acceptCode(text, {
      issuerKeys: nodeRing,
      now,
      replayGuard: nodeGuard,
    })
    if (!result.ok) throw new Error(result.error)
  }
  const nodeAccepted = rate(texts.length, started)

  // Many codes in flight at once (a gateway serving many terminals): the same
  // work, with the WebCrypto round trips overlapping.
  const inFlight = 32
  const overlapGuard = new lib.MemoryReplayGuard()
  let next = 0
  started = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < texts.length) {
        const text = texts[next++]
        const result = await lib.acceptCode(text, {
          issuerKeys: ring,
          now,
          replayGuard: overlapGuard,
        })
        if (!result.ok) throw new Error(result.error)
      }
    })
  )
  const overlapped = rate(texts.length, started)

  started = performance.now()
  for (const text of texts) lib.base45Decode(text)
  const decoded = rate(texts.length, started)

  print(`campus code, library, one code at a time (${codeCount} codes, Node ${process.version})`, [
    [
      'Ed25519 verify, node:crypto (raw)',
      nodeRaw,
      'one check per code once its credential is known',
    ],
    ['Ed25519 verify, WebCrypto (raw)', webRaw, 'the library verifies through WebCrypto'],
    ['Base45 decode', decoded],
    ['verifyCode (steps 1-10)', verified],
    [
      'acceptCode + MemoryReplayGuard',
      accepted,
      `${((accepted / nodeRaw) * 100).toFixed(0)} % of one raw node:crypto verification`,
    ],
    ['acceptCode, replays refused', replayed],
    [`acceptCode + MemoryReplayGuard, ${inFlight} in flight`, overlapped],
    [
      'acceptCode, node:crypto backend (server)',
      nodeAccepted,
      `${((nodeAccepted / nodeRaw) * 100).toFixed(0)} % of one raw node:crypto verification`,
    ],
  ])
  console.log(
    `  target 8000 codes/s on one core, server backend: ${nodeAccepted >= 8000 ? 'met' : 'NOT met'}; ` +
      `WebCrypto one at a time: ${accepted >= 8000 ? 'met' : 'NOT met'}; ` +
      `${inFlight} in flight: ${overlapped >= 8000 ? 'met' : 'NOT met'}`
  )
}

/** Server figures through verifyCampusCode on one database. */
async function serverBench(codeCount: number, concurrency: number) {
  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp({ http: false })
  try {
    const { givenSchool } = await import('../tests/helpers/fixtures.js')
    const { givenPeople } = await import('../tests/cards/fixtures.js')
    const { givenCard, givenHolderDevice, codeOf } = await import('../tests/cards/code_fixtures.js')
    const { verifyCampusCode } = await import('#cards/services/code_verification')
    const { pruneSeenCodes } = await import('#cards/services/replay_store')
    await givenSchool()
    const people = await givenPeople([{ no: 'BENCH01', type: 'teacher' }])
    const card = await givenCard(people.get('BENCH01')!.id)
    const device = await givenHolderDevice(card.cardNo)
    const now = Math.floor(Date.now() / 1000)
    const makeCodes = async (count: number) => {
      const texts: string[] = []
      for (let index = 0; index < count; index++) texts.push(await codeOf(device, now))
      return texts
    }
    const noFreeze = { maxReplays: Number.MAX_SAFE_INTEGER, windowSeconds: 600 }
    const run = async (texts: string[], parallel: number, expect: 'ok' | 'code_replayed') => {
      let next = 0
      const started = performance.now()
      await Promise.all(
        Array.from({ length: parallel }, async () => {
          while (next < texts.length) {
            const text = texts[next++]
            const { result } = await verifyCampusCode(text, {
              verifier: 'T-BENCH',
              now,
              freezePolicy: noFreeze,
            })
            const answer = result.ok ? 'ok' : result.error
            if (answer !== expect) throw new Error(`expected ${expect}, got ${answer}`)
          }
        })
      )
      return rate(texts.length, started)
    }

    // Warm up the key ring, the connection pool and the statements.
    await run(await makeCodes(50), 1, 'ok')
    const sequential = await makeCodes(codeCount)
    const oneAtATime = await run(sequential, 1, 'ok')
    const parallelCodes = await makeCodes(codeCount)
    const atOnce = await run(parallelCodes, concurrency, 'ok')
    const replayCount = Math.min(codeCount, 1000)
    const replays = await run(sequential.slice(0, replayCount), 1, 'code_replayed')
    const started = performance.now()
    const pruned = await pruneSeenCodes(now + 3600)
    const pruneSeconds = (performance.now() - started) / 1000

    print(`campus code, verifyCampusCode with the database guard on ${quad.dialect}`, [
      ['accepted, one at a time', oneAtATime],
      [`accepted, ${concurrency} at once`, atOnce],
      ['replays, one at a time (recorded, audited)', replays],
    ])
    console.log(`  pruning: ${pruned} seen code ids in ${pruneSeconds.toFixed(2)} s`)
  } finally {
    await quad.close()
  }
}

export default async function campusCodeBench(args: string[]) {
  const codes = Number(option(args, 'codes', '20000'))
  const dbCodes = Number(option(args, 'db-codes', '3000'))
  const concurrency = Number(option(args, 'concurrency', '8'))
  if (!option(args, 'db', '')) await libraryBench(codes)
  if (await ranOnEachDatabase('campus_code', args)) return
  await serverBench(dbCodes, concurrency)
}
