/**
 * The portal in a real browser (Debian Chromium): the sign-in page at a
 * phone's size signs a person in and shows home; at a desktop's size the same
 * page shows a QR code fetched by its script under the strict CSP.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import {
  declareBrowserTests,
  DESKTOP,
  navigateBy,
  openBrowser,
  templateLeftovers,
  type BrowserSession,
} from '#tests/helpers/browser'
import type { GivenPerson } from '../portal/fixtures.js'

/** An ordinary phone's viewport, with touch and a phone browser's user agent. */
const PHONE = {
  viewport: { width: 390, height: 844 },
  context: {
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 3,
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  },
}

let quad: TestApp
let given: GivenPerson

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootTestApp()
    const { givenSchool } = await import('#tests/helpers/fixtures')
    await givenSchool()
    const { givenPerson } = await import('../portal/fixtures.js')
    given = await givenPerson({ name: '王小明' })
  })

  test.after.always(async () => {
    await quad?.close()
  })

  test.serial('the sign-in page fits a phone and signs in to home', async (t) => {
    const session: BrowserSession = await openBrowser(quad.baseUrl, {
      viewport: PHONE.viewport,
      context: PHONE.context,
    })
    try {
      const { page } = session
      await page.goto(quad.baseUrl + '/portal')
      await page.waitForURL((url) => url.pathname === '/portal/login')
      t.deepEqual(await templateLeftovers(page), [])
      t.false(await page.getByTestId('portal-qr').isVisible(), 'no QR code on a phone')
      // Evaluated in the page, where document and window exist.
      const widths = (await page.evaluate(
        '({ document: document.documentElement.scrollWidth, viewport: window.innerWidth })'
      )) as { document: number; viewport: number }
      t.true(widths.document <= widths.viewport, `no sideways scrolling: ${JSON.stringify(widths)}`)
      const fontSize = await page.evaluate(
        'window.getComputedStyle(document.querySelector("#field-personNo")).fontSize'
      )
      t.is(fontSize, '16px', 'iOS does not zoom into the field')

      await page.fill('#field-personNo', given.personNo)
      await page.fill('#field-password', given.password)
      await navigateBy(page, '/portal', () =>
        page.getByTestId('portal-login-form').locator('button[type=submit]').click()
      )
      t.deepEqual(await templateLeftovers(page), [])
      t.regex(await page.getByTestId('portal-greeting').innerText(), /王小明/)
      const tiles = await page
        .locator('[data-tile]')
        .evaluateAll((items) => items.map((item) => item.getAttribute('data-tile')))
      t.deepEqual([...tiles].sort(), [
        'balance',
        'campus_code',
        'merchant_pay',
        'notices',
        'service_hall',
      ])
      t.true(await page.getByTestId('tab-me').isVisible())
      const tabs = await page.locator('.portal-tabs').boundingBox()
      t.true(
        tabs !== null && Math.abs(tabs.y + tabs.height - PHONE.viewport.height) < 2,
        'tab bar at the bottom'
      )
      t.log('screenshot:', await session.screenshot('portal-phone-home'))

      await navigateBy(page, '/portal/me', () => page.getByTestId('tab-me').click())
      t.regex(await page.getByTestId('portal-profile').innerText(), new RegExp(given.personNo))
      t.deepEqual(session.problems, { consoleErrors: [], pageErrors: [], foreignRequests: [] })
    } finally {
      await session.close()
    }
  })

  test.serial('the desktop sign-in page shows a QR code from its own script', async (t) => {
    const session = await openBrowser(quad.baseUrl, { viewport: DESKTOP })
    try {
      const { page } = session
      await page.goto(quad.baseUrl + '/portal/login')
      const image = page.locator('[data-qr-image]')
      await image.waitFor({ state: 'visible' })
      t.regex((await image.getAttribute('src')) ?? '', /^data:image\/svg\+xml/)
      t.is(await page.getByTestId('portal-qr').getAttribute('data-qr-state'), 'pending')
      t.false(
        await page.locator('[data-qr-refresh]').isVisible(),
        'no refresh while the code is fresh'
      )
      t.log('screenshot:', await session.screenshot('portal-desktop-login'))
      t.deepEqual(session.problems, { consoleErrors: [], pageErrors: [], foreignRequests: [] })
    } finally {
      await session.close()
    }
  })
})
