/**
 * Smoke test of the console in a real browser (Debian Chromium): one serial
 * flow from a fresh install through setup, sign-in, language switch, the
 * responsive layout and sign-out. Each step builds on the one before.
 */
import test, { type ExecutionContext } from 'ava'
import type { Page } from 'playwright-core'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import {
  declareBrowserTests,
  DESKTOP,
  navigateBy,
  openBrowser,
  pathOf,
  TABLET,
  templateLeftovers,
  type BrowserSession,
} from '#tests/helpers/browser'

const school = { name: '华南示范大学', code: 'SCMU' }
const admin = {
  username: 'admin',
  displayName: '王老师',
  email: 'it@scmu.edu.cn',
  password: 'Campus-2026-secure',
}
const HAN = /\p{Script=Han}/u

let quad: TestApp
let session: BrowserSession
let page: Page
let totpSecret = ''
let translate: (locale: 'zh-CN' | 'en', key: string) => string
let totpNow: (secret: string, at?: number) => string

/** Left and right edges of the sidebar, in CSS pixels of the viewport. */
function sidebarEdges() {
  return page.locator('.sidebar').evaluate((element) => {
    const box = element.getBoundingClientRect()
    return { left: box.left, right: box.right }
  })
}

/**
 * Runs an action that leads to a page at `path`, and checks that the page
 * came out fully rendered.
 */
async function landOn(t: ExecutionContext, path: string, action: () => Promise<unknown>) {
  await navigateBy(page, path, action)
  t.deepEqual(await templateLeftovers(page), [], `template syntax shown on ${path}`)
}

function submit(form: string) {
  return () => page.getByTestId(form).locator('button[type=submit]').click()
}

/** Waits for the sidebar's slide transition to end fully open or closed. */
async function sidebarSettles(state: 'open' | 'closed') {
  const sidebar = await page.locator('.sidebar').elementHandle()
  await page.waitForFunction(
    ({ element, open }) => {
      const box = element!.getBoundingClientRect()
      return open ? box.left === 0 : box.right <= 0
    },
    { element: sidebar, open: state === 'open' }
  )
}

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootTestApp()
    const { default: i18nManager } = await import('@adonisjs/i18n/services/main')
    translate = (locale, key) => i18nManager.locale(locale).t(key)
    ;({ totpNow } = await import('#core/services/totp'))
    // Before setup the language follows Accept-Language, then falls back to
    // Chinese: a browser set to Chinese, as on the school's PCs, sees Chinese.
    session = await openBrowser(quad.baseUrl, { locale: 'zh-CN', viewport: DESKTOP })
    page = session.page
  })

  test.after.always(async () => {
    try {
      await session?.close()
    } finally {
      await quad?.close()
    }
  })

  test.serial('a fresh install opens on the first-run wizard, in Chinese', async (t) => {
    await page.goto(quad.baseUrl + '/')
    await page.waitForURL((url) => url.pathname === '/setup')
    t.deepEqual(await templateLeftovers(page), [])
    t.is(await page.locator('html').getAttribute('lang'), 'zh-CN')
    const heading = await page.locator('h1').innerText()
    t.is(heading, translate('zh-CN', 'appliance.setup.title'))
    t.regex(heading, HAN)
    totpSecret = (await page.getByTestId('totp-secret').innerText()).trim()
    t.regex(totpSecret, /^[A-Z2-7]{32}$/)
    t.true(await page.getByTestId('totp-qr').locator('svg').isVisible())
  })

  test.serial(
    'a wrong value shows a Chinese error next to its field and keeps the rest',
    async (t) => {
      await page.fill('#field-schoolName', school.name)
      await page.fill('#field-schoolCode', school.code)
      await page.selectOption('#field-timeZone', 'Asia/Shanghai')
      await page.fill('#field-username', admin.username)
      await page.fill('#field-displayName', admin.displayName)
      await page.fill('#field-email', admin.email)
      await page.fill('#field-password', admin.password)
      await page.fill('#field-passwordConfirmation', admin.password + 'x')
      await page.fill('#field-totpCode', totpNow(totpSecret))
      await landOn(t, '/setup', submit('setup-form'))

      const error = page.locator('[data-error-for="passwordConfirmation"]')
      const message = await error.innerText()
      t.regex(message, HAN)
      t.regex(message, /不一致/)
      const confirmation = page.locator('#field-passwordConfirmation')
      t.is(await confirmation.getAttribute('aria-invalid'), 'true')
      t.is(await confirmation.getAttribute('aria-describedby'), await error.getAttribute('id'))
      t.is(await page.locator('[data-error-for]').count(), 1, 'only the wrong field is marked')

      t.is(await page.inputValue('#field-schoolName'), school.name)
      t.is(await page.inputValue('#field-schoolCode'), school.code)
      t.is(await page.inputValue('#field-timeZone'), 'Asia/Shanghai')
      t.is(await page.inputValue('#field-displayName'), admin.displayName)
      t.is(await page.inputValue('#field-email'), admin.email)
      t.is(await page.inputValue('#field-password'), '', 'passwords are never sent back')
      t.is(await page.inputValue('#field-passwordConfirmation'), '')
      t.is(
        (await page.getByTestId('totp-secret').innerText()).trim(),
        totpSecret,
        'the QR code the admin scanned stays valid'
      )
      t.log('screenshot:', await session.screenshot('setup-error'))
    }
  )

  test.serial('the completed wizard leads to sign-in with a success notice', async (t) => {
    await page.fill('#field-password', admin.password)
    await page.fill('#field-passwordConfirmation', admin.password)
    await page.fill('#field-totpCode', totpNow(totpSecret))
    await landOn(t, '/login', submit('setup-form'))

    t.is(
      (await page.locator('[data-flash="notice"]').innerText()).trim(),
      translate('zh-CN', 'appliance.setup.done')
    )
    t.is(await page.locator('h1').innerText(), translate('zh-CN', 'identity.login.title'))
  })

  test.serial('a failed sign-in never tells which part was wrong', async (t) => {
    const attempt = async (username: string, password: string) => {
      await page.fill('#field-username', username)
      await page.fill('#field-password', password)
      await landOn(t, '/login', submit('login-form'))
      return (await page.locator('[data-flash="error"]').innerText()).trim()
    }
    const wrongPassword = await attempt(admin.username, 'Wrong-password-2026')
    const unknownUser = await attempt('nobody', admin.password)
    t.is(wrongPassword, translate('zh-CN', 'identity.login.invalid_credentials'))
    t.is(unknownUser, wrongPassword)
    t.is(await page.locator('[data-error-for]').count(), 0, 'no field is singled out')
    t.is(await page.inputValue('#field-username'), 'nobody')
    t.is(await page.inputValue('#field-password'), '')
  })

  test.serial('password then TOTP lands on the dashboard of the school', async (t) => {
    await page.fill('#field-username', admin.username)
    await page.fill('#field-password', admin.password)
    await landOn(t, '/login/totp', submit('login-form'))
    t.is(await page.locator('h1').innerText(), translate('zh-CN', 'identity.totp.title'))

    // Each 30-second step signs in once, and the wizard has just used the
    // current one for this account. The code of the next step is accepted
    // right away (the server allows one step of drift) and stays valid if a
    // step boundary passes before it arrives, so there is nothing to wait for.
    await page.fill('#field-code', totpNow(totpSecret, Date.now() + 30_000))
    await landOn(t, '/console', submit('totp-form'))

    t.is(await page.locator('h1').innerText(), translate('zh-CN', 'core.dashboard.title'))
    t.is(await page.locator('.topbar-school').innerText(), school.name)
    t.regex(await page.locator('.topbar-user').innerText(), new RegExp(admin.displayName))
    t.true(await page.locator('.stat-value', { hasText: school.name }).isVisible())
    t.true(await page.locator('.stat-value', { hasText: admin.displayName }).isVisible())
  })

  test.serial('the language switch turns the console to English and back', async (t) => {
    await landOn(t, '/console', () => page.getByTestId('lang-en').click())
    t.is(await page.locator('html').getAttribute('lang'), 'en')
    t.is(await page.locator('h1').innerText(), translate('en', 'core.dashboard.title'))
    t.is((await page.getByTestId('logout').innerText()).trim(), translate('en', 'core.auth.logout'))
    t.notRegex(await page.locator('main').innerText(), /控制台|当前登录|功能模块/)

    await landOn(t, '/console', () => page.getByTestId('lang-zh').click())
    t.is(await page.locator('html').getAttribute('lang'), 'zh-CN')
    t.is(await page.locator('h1').innerText(), translate('zh-CN', 'core.dashboard.title'))
  })

  test.serial('on a tablet the sidebar hides behind the menu button', async (t) => {
    await page.setViewportSize(TABLET)
    const menu = page.locator('.nav-toggle-button')
    await menu.waitFor({ state: 'visible' })
    t.is(await menu.locator('svg.icon').count(), 1, 'the menu button shows its icon')
    t.is((await menu.innerText()).trim(), '', 'and no text')
    // Leaving the desktop width, the sidebar slides out with a CSS transition.
    await sidebarSettles('closed')
    t.true((await sidebarEdges()).right <= 0, 'the sidebar is off-screen')
    t.log('screenshot:', await session.screenshot('dashboard-tablet'))

    await menu.click()
    // The drawer slides in with the same transition.
    await sidebarSettles('open')
    const open = await sidebarEdges()
    t.is(open.left, 0)
    t.true(open.right > 0)
    const home = page.locator('.sidebar a', { hasText: translate('zh-CN', 'core.nav.dashboard') })
    t.true(await home.isVisible())
    t.log('screenshot:', await session.screenshot('dashboard-tablet-menu'))
  })

  test.serial('on a desktop the sidebar is always shown', async (t) => {
    await page.setViewportSize(DESKTOP)
    await page.locator('.nav-toggle-button').waitFor({ state: 'hidden' })
    const sidebar = await sidebarEdges()
    t.is(sidebar.left, 0)
    t.true(sidebar.right > 0)
    const content = await page.locator('.main-column').boundingBox()
    t.true(content!.x >= sidebar.right, 'the content starts right of the sidebar')
    t.log('screenshot:', await session.screenshot('dashboard-desktop'))
  })

  test.serial('signing out ends the session', async (t) => {
    await landOn(t, '/login', () => page.getByTestId('logout').click())
    t.is(
      (await page.locator('[data-flash="notice"]').innerText()).trim(),
      translate('zh-CN', 'identity.login.signed_out')
    )
    await page.goto(quad.baseUrl + '/console')
    t.is(pathOf(page), '/login')
  })

  test.serial('the browser saw no errors and asked no other host', (t) => {
    t.deepEqual(session.problems.consoleErrors, [])
    t.deepEqual(session.problems.pageErrors, [])
    t.deepEqual(session.problems.foreignRequests, [])
  })
})
