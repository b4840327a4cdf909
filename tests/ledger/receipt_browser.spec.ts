import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { declareBrowserTests, openBrowser, pathOf } from '#tests/helpers/browser'

let quad: TestApp

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootTestApp()
  })

  test.after.always(async () => {
    await quad?.close()
  })

  test('a cashier tops up in a real browser and prints a receipt that stands alone', async (t) => {
    const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
    const { totpNow } = await import('#core/services/totp')
    const { givenPerson } = await import('./given.js')
    await givenSchool()
    const cashier = await givenAdmin('finance')
    const holder = await givenPerson('李华')

    const session = await openBrowser(quad.baseUrl)
    const { page } = session
    try {
      await page.goto(`${quad.baseUrl}/login`)
      await page.fill('#field-username', cashier.username)
      await page.fill('#field-password', cashier.password)
      await page.click('button[type="submit"]')
      await page.waitForURL(/\/login\/totp$/)
      await page.fill('#field-code', totpNow(cashier.totpSecret))
      await page.click('button[type="submit"]')
      await page.waitForURL(/\/console$/)

      await page.goto(`${quad.baseUrl}/console/ledger?q=${holder.personNo}`)
      await page.click(`a[href="/console/ledger/people/${holder.publicId}"] >> nth=0`)
      await page.fill('#field-amount', '20.00')
      await page.click('[data-testid="top-up-submit"]')
      await page.waitForURL(/\/receipt$/)
      t.regex(pathOf(page), /^\/console\/ledger\/transfers\/[0-9A-Z]{26}\/receipt$/)
      t.is(await page.getByTestId('receipt-amount').innerText(), '¥20.00')
      await session.screenshot('ledger-receipt')

      // On paper: the receipt, without the console around it.
      await page.emulateMedia({ media: 'print' })
      t.false(await page.locator('.sidebar').isVisible())
      t.false(await page.locator('.topbar').isVisible())
      t.false(await page.locator('[data-print]').isVisible())
      t.true(await page.getByTestId('receipt').isVisible())
      await session.screenshot('ledger-receipt-print')
      await page.emulateMedia({ media: 'screen' })

      await page.goto(`${quad.baseUrl}/console/ledger/people/${holder.publicId}`)
      await session.screenshot('ledger-person')
      await page.goto(`${quad.baseUrl}/console/trial-balance`)
      await session.screenshot('ledger-trial-balance')
      t.deepEqual(session.problems, { consoleErrors: [], pageErrors: [], foreignRequests: [] })
    } finally {
      await session.close()
    }
  })
})
