/**
 * The scan-to-verify page in a real browser (Debian Chromium), driven as a
 * USB keyboard-wedge scanner drives it: the field has the focus when the
 * page opens, the scanner types the code and presses Enter, and the result
 * shows with the field ready for the next scan.
 */
import test from 'ava'
import type { Page } from 'playwright-core'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import {
  declareBrowserTests,
  navigateBy,
  openBrowser,
  templateLeftovers,
  type BrowserSession,
} from '#tests/helpers/browser'
import type { GivenAdmin } from '#tests/helpers/fixtures'

let quad: TestApp
let session: BrowserSession
let page: Page
let officer: GivenAdmin

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootTestApp()
    const { givenSchool } = await import('#tests/helpers/fixtures')
    const { givenAccount } = await import('./fixtures.js')
    await givenSchool()
    officer = await givenAccount('card_office')
    session = await openBrowser(quad.baseUrl, { locale: 'zh-CN' })
    page = session.page
  })

  test.after.always(async () => {
    await session?.close()
    await quad?.close()
  })

  test.serial(
    'a scanner types the code into the focused field and Enter verifies it',
    async (t) => {
      const { totpNow } = await import('#core/services/totp')
      await page.goto(quad.baseUrl + '/login')
      await page.fill('#field-username', officer.username)
      await page.fill('#field-password', officer.password)
      await navigateBy(page, '/login/totp', () =>
        page.getByTestId('login-form').locator('button[type=submit]').click()
      )
      await page.fill('#field-code', totpNow(officer.totpSecret))
      await navigateBy(page, '/console', () =>
        page.getByTestId('totp-form').locator('button[type=submit]').click()
      )

      const { givenPeople } = await import('./fixtures.js')
      const { givenCard, givenHolderDevice, codeOf } = await import('./code_fixtures.js')
      const people = await givenPeople([{ no: 'W001', type: 'teacher', name: '吴老师' }])
      const card = await givenCard(people.get('W001')!.id)
      const device = await givenHolderDevice(card.cardNo)
      const text = await codeOf(device)

      await page.goto(`${quad.baseUrl}/console/card-verify`)
      t.is(await page.locator('#field-code:focus').count(), 1)
      await page.keyboard.type(text)
      await navigateBy(page, '/console/card-verify', () => page.keyboard.press('Enter'))
      t.is(await page.getByTestId('verify-result').getAttribute('data-ok'), 'true')
      t.is(await page.getByTestId('verify-name').innerText(), '吴老师')
      t.deepEqual(await templateLeftovers(page), [])

      // The next scan needs no click either: the same code again is a replay.
      t.is(await page.locator('#field-code:focus').count(), 1)
      await page.keyboard.type(text)
      await navigateBy(page, '/console/card-verify', () => page.keyboard.press('Enter'))
      t.is(await page.getByTestId('verify-result').getAttribute('data-error'), 'code_replayed')
      t.regex(await page.getByTestId('verify-reason').innerText(), /校园码已被使用/)

      await page.goto(`${quad.baseUrl}/console/card-replays`)
      t.is(await page.getByTestId('replay-row').count(), 1)
      t.deepEqual(await templateLeftovers(page), [])
      t.deepEqual(session.problems, { consoleErrors: [], pageErrors: [], foreignRequests: [] })
    }
  )
})
