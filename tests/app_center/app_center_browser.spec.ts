/**
 * The app center in a real browser (Debian Chromium): a person launches a
 * third-party app from the service hall, signs in through the portal,
 * consents and lands at the app with a code; a kiosk's code is typed in the
 * portal; the console's app pages render under the content security policy.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import test from 'ava'
import type { Page } from 'playwright-core'
import {
  declareBrowserTests,
  navigateBy,
  openBrowser,
  templateLeftovers,
  type BrowserSession,
} from '#tests/helpers/browser'
import type { GivenPerson } from '#tests/portal/fixtures'
import {
  AFTER_LOGOUT,
  authorizationRequest,
  bootOidcTestApp,
  CALLBACK,
  givenOidcApp,
  oidc,
  redeem,
  relyingParty,
  RP,
  type OidcTestApp,
} from './helpers.js'

let quad: OidcTestApp
let session: BrowserSession
let page: Page
let rp: Server
let person: GivenPerson

declareBrowserTests(test, () => {
  test.before(async () => {
    quad = await bootOidcTestApp()
    const { givenSchool } = await import('#tests/helpers/fixtures')
    await givenSchool()
    const { givenPerson } = await import('#tests/portal/fixtures')
    person = await givenPerson({ name: '陈思远' })
    // The relying party's pages: a local server that the browser reaches by its name.
    rp = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<p id="rp">app</p>')
    })
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve))
    const { port } = rp.address() as AddressInfo
    session = await openBrowser(quad.baseUrl, {
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
      hosts: { [new URL(RP).hostname]: `http://127.0.0.1:${port}` },
    })
    page = session.page
  })

  test.after.always(async () => {
    await session?.close()
    await quad?.close()
    rp?.close()
  })

  test.serial(
    'a person signs in to a third-party app through the portal and consents',
    async (t) => {
      const app = await givenOidcApp({ name: '合作书店', firstParty: false })
      const config = await relyingParty(quad.issuer, app)
      const request = await authorizationRequest(config, 'openid profile')

      await page.goto(request.url.href)
      t.is(new URL(page.url()).pathname, '/portal/login')
      await page.fill('#field-personNo', person.personNo)
      await page.fill('#field-password', person.password)
      await page.getByTestId('portal-login-form').locator('button[type=submit]').click()
      await page.getByTestId('oidc-consent').waitFor()
      t.deepEqual(await templateLeftovers(page), [])
      await session.screenshot('app-center-consent')

      await page.getByTestId('consent-allow').locator('button').click()
      await page.waitForURL((url) => url.href.startsWith(CALLBACK))
      const tokens = await redeem(config, new URL(page.url()), request)
      t.is(tokens.claims()!.sub, person.person.publicId)

      // Signing out of the app only: the confirmation's form leads back to the app.
      const logout = oidc.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: AFTER_LOGOUT,
        state: 'bye',
      })
      await page.goto(logout.href)
      await page.getByTestId('oidc-logout').waitFor()
      await page.getByTestId('oidc-logout-stay').click()
      await page.waitForURL((url) => url.href.startsWith(AFTER_LOGOUT))
      t.deepEqual(session.problems.pageErrors, [])
      t.deepEqual(session.problems.consoleErrors, [])
    }
  )

  test.serial('a kiosk code typed in the portal signs the kiosk in', async (t) => {
    const kiosk = await givenOidcApp({
      name: '自助打印机',
      publicClient: true,
      grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
    })
    const config = await relyingParty(quad.issuer, kiosk)
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' })

    await page.goto(quad.baseUrl + '/portal/apps')
    await navigateBy(page, '/oidc/device', () => page.getByTestId('hall-device').click())
    await page.fill('#field-user_code', started.user_code)
    await page.getByTestId('device-input').locator('button[type=submit]').click()
    await page.getByTestId('device-confirm').waitFor()
    t.is(await page.getByTestId('device-user-code').innerText(), started.user_code)
    await session.screenshot('app-center-device-confirm')
    await page.getByTestId('device-approve').click()
    await page.getByTestId('device-done').waitFor()

    const tokens = await oidc.genericGrantRequest(
      config,
      'urn:ietf:params:oauth:grant-type:device_code',
      { device_code: started.device_code }
    )
    t.is(tokens.claims()!.sub, person.person.publicId)
    t.deepEqual(session.problems.consoleErrors, [])
  })

  test.serial('the console registers an app and shows its launches', async (t) => {
    const { givenAdmin } = await import('#tests/helpers/fixtures')
    const { totpNow } = await import('#core/services/totp')
    const admin = await givenAdmin('super_admin')
    await page.setViewportSize({ width: 1280, height: 800 })
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

    await page.goto(quad.baseUrl + '/console/apps/new')
    t.deepEqual(await templateLeftovers(page), [])
    await page.fill('#field-nameZh', '校历')
    await page.selectOption('#field-kind', 'link')
    await page.selectOption('#field-category', 'office')
    await page.fill('#field-launchUrl', 'https://calendar.school.edu.cn/')
    await session.screenshot('app-center-form')
    await page.getByTestId('app-save').click()
    await page.getByTestId('app-launch-chart').waitFor()
    t.deepEqual(await templateLeftovers(page), [])
    await session.screenshot('app-center-show')

    await page.goto(quad.baseUrl + '/console/apps')
    t.is(await page.getByTestId('app-row').count(), 3)
    t.deepEqual(session.problems.pageErrors, [])
    t.deepEqual(session.problems.consoleErrors, [])
    t.deepEqual(
      session.problems.foreignRequests.filter((url) => !url.startsWith(RP)),
      []
    )
  })
})
