/**
 * The audience editor's live count in a real browser (Debian Chromium): the
 * script loads under the content security policy, posts the form with its
 * CSRF token after each change and shows the count.
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
import type Person from '#identity/models/person'

let quad: TestApp
let session: BrowserSession
let page: Page
let admin: GivenAdmin
let people: Person[]

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootTestApp()
    const { LoadDemoSchool } = await import('#identity/actions/load_demo_school')
    const { givenAdmin } = await import('#tests/helpers/fixtures')
    const { default: PersonModel } = await import('#identity/models/person')
    const loaded = await new LoadDemoSchool().handle({ people: 60, seed: 3 })
    if (!loaded.ok) throw new Error(loaded.error)
    admin = await givenAdmin('super_admin')
    people = await PersonModel.all()
    session = await openBrowser(quad.baseUrl, { locale: 'zh-CN' })
    page = session.page
  })

  test.after.always(async () => {
    await session?.close()
    await quad?.close()
  })

  test.serial('the editor counts people as the rules change', async (t) => {
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

    await page.goto(quad.baseUrl + '/console/audiences/new')
    t.deepEqual(await templateLeftovers(page), [])
    const count = page.getByTestId('audience-count')
    // Nothing chosen: the first count on load says nobody.
    await page.locator('[data-audience-editor][data-audience-state="counted"]').waitFor()
    t.is((await count.innerText()).trim(), '约 0 人')

    const teachers = people.filter((person) => person.identityType === 'teacher')
    await page.locator('input[name="audience[identity_types][]"][value="teacher"]').check()
    await t.notThrowsAsync(
      count.filter({ hasText: `约 ${teachers.length} 人` }).waitFor(),
      'count after ticking teachers'
    )

    await page.fill('textarea[name="audience[exclude]"]', `${teachers[0].personNo}\nNOT-YET-1`)
    await t.notThrowsAsync(
      count.filter({ hasText: `约 ${teachers.length - 1} 人` }).waitFor(),
      'count after excluding one'
    )
    t.is(
      (await page.getByTestId('audience-unknown').innerText()).trim(),
      '1 个学工号尚未登记：NOT-YET-1'
    )

    await page.fill('input[name="audience[year_from]"]', '2030')
    await page.fill('input[name="audience[year_to]"]', '2020')
    await t.notThrowsAsync(count.filter({ hasText: '规则有误' }).waitFor(), 'invalid rules')

    t.deepEqual(session.problems.consoleErrors, [])
    t.deepEqual(session.problems.pageErrors, [])
    t.deepEqual(session.problems.foreignRequests, [])
  })
})
