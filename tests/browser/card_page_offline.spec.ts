/**
 * The portal's card page in a real browser (Debian Chromium) at a phone's
 * size: the holder activates the campus code (a WebCrypto device key kept in
 * IndexedDB), the page shows a QR code, and with the network off the page
 * opens from its service worker and keeps making codes that the server's
 * verifier accepts.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import {
  declareBrowserTests,
  openBrowser,
  templateLeftovers,
  type BrowserSession,
} from '#tests/helpers/browser'
import { TestClient } from '#tests/helpers/http'
import type { Page } from 'playwright-core'
import type { GivenPerson } from '../portal/fixtures.js'

const PHONE = {
  viewport: { width: 390, height: 844 },
  context: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
}

/** A page expression: the QR text shown is set and differs from `previous`. */
/**
 * Waits until the page shows a code other than `previous`. The predicate is a
 * function, not a string: a string would be evaluated with eval() while
 * polling, which the page's CSP (script-src 'self') refuses.
 */
function codeOtherThan(page: Page, previous: string, timeout = 30_000) {
  return page.waitForFunction(
    (before: string) => {
      const text = (globalThis as any).document
        .querySelector('[data-code-panel]')
        ?.getAttribute('data-code-text')
      return Boolean(text) && text !== before
    },
    previous,
    { timeout }
  )
}

let quad: TestApp
let given: GivenPerson
let cardNo: string
let portalCookie: string
let session: BrowserSession

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootTestApp({ env: { QUAD_PORTAL_LOGIN_RATE_LIMIT: '1000' } })
    const { givenSchool } = await import('#tests/helpers/fixtures')
    await givenSchool()
    const { ensureIssuerKey } = await import('#appliance/services/issuer_keys')
    ensureIssuerKey()
    const { givenPerson } = await import('../portal/fixtures.js')
    given = await givenPerson({ name: '李小红' })
    const { IssueCard } = await import('#cards/actions/issue_card')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const issued = await new IssueCard().handle(
      { person: { id: given.person.id }, cardType: { code: 'student' } },
      SYSTEM_ACTOR
    )
    if (!issued.ok) throw new Error(issued.error)
    cardNo = issued.value.cardNo
    // Signed in through the real form; the browser gets the session cookie.
    const { portalSignIn } = await import('../portal/fixtures.js')
    const client = new TestClient(quad.baseUrl)
    await portalSignIn(client, given)
    portalCookie = client.cookie('quad_portal')!
    session = await openBrowser(quad.baseUrl, {
      viewport: PHONE.viewport,
      context: PHONE.context,
      // Under a loaded CI machine the service worker and WebCrypto take their time.
      timeout: 30_000,
    })
  })

  test.after.always(async () => {
    await session?.close()
    await quad?.close()
  })

  test.serial('activate, then show codes with the network off', async (t) => {
    const { page, context } = session
    await context.addCookies([{ name: 'quad_portal', value: portalCookie, url: quad.baseUrl }])
    await page.goto(quad.baseUrl + '/portal/card')
    t.deepEqual(await templateLeftovers(page), [])
    t.regex(await page.getByTestId('card-holder').innerText(), /李小红/)

    const panel = page.locator('[data-code-panel]')
    await page.getByTestId('card-activate').click()
    await page.waitForSelector('[data-code-panel][data-code-text]')
    const first = (await panel.getAttribute('data-code-text'))!
    t.true(await page.getByTestId('card-qr').isVisible())
    t.is(await page.getByTestId('card-page').getAttribute('data-state'), 'active')
    const stored = (await page.evaluate(`new Promise((resolve) => {
      const open = indexedDB.open('quad-card', 1)
      open.onsuccess = () => {
        const get = open.result.transaction('devices').objectStore('devices').getAll()
        get.onsuccess = () => resolve(get.result.map((record) => ({
          implementation: record.implementation,
          type: record.privateKey.type,
          extractable: record.privateKey.extractable,
        })))
      }
    })`)) as { implementation: string; type: string; extractable: boolean }[]
    t.deepEqual(stored, [{ implementation: 'webcrypto', type: 'private', extractable: false }])

    // The service worker has kept the page and its scripts.
    await page.waitForFunction(async () => {
      const cache = await (globalThis as any).caches.open('quad-card-v1')
      const paths = (await cache.keys()).map((request: any) => new URL(request.url).pathname)
      return ['/portal/card', '/js/card_page.js', '/js/campus_code.js', '/js/qr_encoder.js'].every(
        (path) => paths.includes(path)
      )
    })

    await context.setOffline(true)
    await page.reload()
    t.false((await page.evaluate('navigator.onLine')) as boolean)
    t.true((await page.evaluate('navigator.serviceWorker.controller !== null')) as boolean)
    await codeOtherThan(page, first)
    const second = (await panel.getAttribute('data-code-text'))!
    t.is(await panel.getAttribute('data-code-state'), 'offline')
    await page.getByTestId('card-refresh').click()
    await codeOtherThan(page, second)
    const third = (await panel.getAttribute('data-code-text'))!
    await context.setOffline(false)

    const { acceptCode, MemoryReplayGuard } = await import('#cards/campus_code/index')
    const { issuerKeyRing } = await import('#cards/services/issuer_signing')
    const guard = new MemoryReplayGuard()
    const issuerKeys = await issuerKeyRing()
    for (const text of [first, second, third]) {
      const result = await acceptCode(text, { issuerKeys, replayGuard: guard })
      t.true(result.ok, result.ok ? '' : result.error)
      if (result.ok) t.is(result.value.cardNo, cardNo)
    }
    t.deepEqual(session.problems, { consoleErrors: [], pageErrors: [], foreignRequests: [] })
  })
})
