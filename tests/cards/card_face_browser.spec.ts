/**
 * The card face editor's live preview in a real browser (Debian Chromium):
 * its script loads under the content security policy and the SVG follows
 * the colours, the shown fields, the names and a chosen image as they change.
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
let admin: GivenAdmin

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64'
)

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootTestApp()
    const { givenSchool } = await import('#tests/helpers/fixtures')
    const { givenAccount } = await import('./fixtures.js')
    await givenSchool()
    admin = await givenAccount('super_admin')
    session = await openBrowser(quad.baseUrl, { locale: 'zh-CN' })
    page = session.page
  })

  test.after.always(async () => {
    await session?.close()
    await quad?.close()
  })

  test.serial('the preview follows the card type form as it is edited', async (t) => {
    const { totpNow } = await import('#core/services/totp')
    await page.goto(quad.baseUrl + '/login')
    await page.fill('#field-username', admin.username)
    await page.fill('#field-password', admin.password)
    await navigateBy(page, '/login/totp', () =>
      page.getByTestId('login-form').locator('button[type=submit]').click()
    )
    await page.fill('#field-code', totpNow(admin.totpSecret))
    await navigateBy(page, '/console', () =>
      page.getByTestId('totp-form').locator('button[type=submit]').click()
    )

    const { cardType } = await import('./fixtures.js')
    const student = await cardType('student')
    await page.goto(`${quad.baseUrl}/console/card-types/${student.publicId}/edit`)
    t.deepEqual(await templateLeftovers(page), [])
    const face = page.getByTestId('card-face')
    const fill = (part: string) =>
      face.locator(`[data-face-fill="${part}"]`).first().getAttribute('fill')
    t.is((await fill('background'))?.toUpperCase(), '#1F4E9E')

    await page.locator('#field-colorBackground').fill('#aa3311')
    t.is(await fill('background'), '#aa3311')
    await page.locator('#field-colorText').fill('#101010')
    t.is(await face.locator('[data-face-field="name"]').getAttribute('fill'), '#101010')

    const name = face.locator('[data-face-field="name"]')
    t.is(await name.getAttribute('display'), 'inline')
    await page.locator('input[name="showName"]').uncheck()
    t.is(await name.getAttribute('display'), 'none')

    await page.locator('#field-nameZh').fill('研究生卡')
    t.is(await face.locator('[data-face-type-name]').textContent(), '研究生卡')
    await page.locator('#field-faceTitle').fill('示范大学')
    t.is(await face.locator('[data-face-title]').textContent(), '示范大学')

    const background = face.locator('[data-face-image="background"]')
    t.is(await background.getAttribute('display'), 'none')
    await page
      .locator('#field-background')
      .setInputFiles({ name: 'bg.png', mimeType: 'image/png', buffer: PNG })
    await page.waitForFunction(
      `document.querySelector('[data-face-image="background"]').getAttribute('href').startsWith('data:image/png')`
    )
    t.is(await background.getAttribute('display'), 'inline')
    await session.screenshot('card-type-form')

    await navigateBy(page, '/console/card-types', () => page.getByTestId('card-type-save').click())
    await student.refresh()
    t.is(student.face.colors.background, '#AA3311')
    t.false(student.face.fields.name)
    t.regex(student.face.background ?? '', /^cards\/[0-9a-f]{32}\.png$/)
    t.deepEqual(session.problems, { consoleErrors: [], pageErrors: [], foreignRequests: [] })
    await session.screenshot('card-types')
  })
})
