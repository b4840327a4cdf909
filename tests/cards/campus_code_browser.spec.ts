/**
 * The portal's copy of the library, public/js/campus_code.js, in a real
 * browser: it makes a non-extractable device key, keeps it across a reload
 * in IndexedDB, makes codes with WebCrypto and with the software fallback,
 * and the server's library verifies them.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { declareBrowserTests, openBrowser, type BrowserSession } from '#tests/helpers/browser'
import {
  createIssuerKeyRing,
  fromHex,
  importPrivateKeySeed,
  issueCredential,
  issuerKeyIdOf,
  publicKeyOfSeed,
  toBase64Url,
  fromBase64Url,
  verifyCode,
  type CredentialFields,
} from '#cards/campus_code/index'

const BUNDLE = fileURLToPath(new URL('../../public/js/campus_code.js', import.meta.url))
const ISSUER_SEED = fromHex('44'.repeat(32))
const T0 = 1767225600

let server: Server
let baseUrl: string
let session: BrowserSession

/**
 * What the portal does with the bundle, as a page script: activation keeps
 * the device key in IndexedDB; a later page load makes a code with it.
 */
const PAGE_SCRIPT = `
import * as cc from '/js/campus_code.js'

function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('campus-code-test', 1)
    open.onupgradeneeded = () => open.result.createObjectStore('keys')
    open.onsuccess = () => resolve(open.result)
    open.onerror = () => reject(open.error)
  })
}

function request(make) {
  return database().then((db) => new Promise((resolve, reject) => {
    const req = make(db)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  }))
}

globalThis.campusCodeTest = {
  async activate(implementation) {
    const keys = await cc.generateDeviceKeys({ implementation })
    await request((db) => db.transaction('keys', 'readwrite').objectStore('keys').put(keys.privateKey, 'device'))
    return {
      implementation: keys.implementation,
      extractable: keys.implementation === 'webcrypto' ? keys.privateKey.extractable : null,
      publicKey: cc.toBase64Url(keys.publicKey),
    }
  },
  async makeCode(credential, now, counter) {
    const key = await request((db) => db.transaction('keys').objectStore('keys').get('device'))
    return (await cc.makeCode(cc.fromBase64Url(credential), key, { now, counter })).text
  },
}
document.body.dataset.ready = 'yes'
`

interface PageApi {
  campusCodeTest: {
    activate(implementation: 'webcrypto' | 'software'): Promise<{
      implementation: string
      extractable: boolean | null
      publicKey: string
    }>
    makeCode(credential: string, now: number, counter: number): Promise<string>
  }
}

/** A page on 127.0.0.1 (a secure context, so WebCrypto is there) with the bundle and the page script. */
test.before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/js/campus_code.js' || request.url === '/test.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' })
      response.end(request.url === '/test.js' ? PAGE_SCRIPT : readFileSync(BUNDLE))
    } else {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      response.end(
        '<!doctype html><title>campus code</title><body><script type="module" src="/test.js"></script>'
      )
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

test.after.always(async () => {
  await session?.close()
  await new Promise<void>((resolve) => server?.close(() => resolve()))
})

async function credentialFor(devicePublicKey: Uint8Array) {
  const issuerPublic = await publicKeyOfSeed(ISSUER_SEED)
  const kid = await issuerKeyIdOf(issuerPublic)
  const fields: CredentialFields = {
    cardNo: '260123456782',
    cardType: 1,
    devicePublicKey,
    issuedAt: T0,
    validFrom: T0,
    validUntil: T0 + 86400,
    offlineLimits: { maxCountPerDay: 5, maxAmountPerDayFen: 10000, maxSingleAmountFen: 2000 },
    permissions: ['payment', 'access'],
  }
  return {
    credential: await issueCredential(fields, await importPrivateKeySeed(ISSUER_SEED), kid),
    ring: await createIssuerKeyRing([{ publicKey: issuerPublic }]),
  }
}

async function load(path = '/') {
  await session.page.goto(baseUrl + path)
  await session.page.waitForSelector('body[data-ready="yes"]', { state: 'attached' })
}

declareBrowserTests(test, () => {
  test.serial(
    'the portal bundle makes codes in the browser that the server verifies',
    async (t) => {
      session = await openBrowser(baseUrl)
      await load()
      const activation = await session.page.evaluate(() =>
        (globalThis as unknown as PageApi).campusCodeTest.activate('webcrypto')
      )
      t.is(activation.implementation, 'webcrypto')
      t.false(activation.extractable, 'the private key cannot be exported')
      const { credential, ring } = await credentialFor(fromBase64Url(activation.publicKey))

      // A later visit: the stored key makes a code from the credential.
      await load('/later')
      const text = await session.page.evaluate(
        ([stored, now]) =>
          (globalThis as unknown as PageApi).campusCodeTest.makeCode(stored, now, 1),
        [toBase64Url(credential), T0 + 100] as const
      )
      const verified = await verifyCode(text, { issuerKeys: ring, now: T0 + 105 })
      t.true(verified.ok && verified.value.cardNo === '260123456782')
      t.deepEqual(session.problems.pageErrors, [])
      t.deepEqual(session.problems.consoleErrors, [])
    }
  )

  test.serial('the software fallback in the browser makes codes the server verifies', async (t) => {
    await load()
    const activation = await session.page.evaluate(() =>
      (globalThis as unknown as PageApi).campusCodeTest.activate('software')
    )
    t.is(activation.implementation, 'software')
    const { credential, ring } = await credentialFor(fromBase64Url(activation.publicKey))
    const text = await session.page.evaluate(
      ([stored, now]) => (globalThis as unknown as PageApi).campusCodeTest.makeCode(stored, now, 2),
      [toBase64Url(credential), T0 + 100] as const
    )
    const verified = await verifyCode(text, { issuerKeys: ring, now: T0 + 105 })
    t.true(verified.ok)
  })
})
