/**
 * The shared view components: the confirm button and dialog (markup, and
 * behaviour in a real browser), the chart, and the submit-button handling of
 * public/js/app.js.
 */
import test from 'ava'
import type { Browser, Page } from 'playwright-core'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { CHROMIUM_ARGS, CHROMIUM_PATH, declareBrowserTests } from '#tests/helpers/browser'

let quad: TestApp
let browser: Browser | undefined

test.before(async () => {
  quad = await bootTestApp()
})

test.after.always(async () => {
  // The browser first: its keep-alive connections would hold the server open.
  await browser?.close()
  await quad?.close()
})

const noFlash = { get: () => undefined, has: () => false }

/** Renders Edge markup as a console page would, in the given language. */
async function render(template: string, locale = 'zh-CN', state: Record<string, unknown> = {}) {
  const { default: edge } = await import('edge.js')
  const { default: i18nManager } = await import('@adonisjs/i18n/services/main')
  const csrfField = () => edge.globals.html.safe(`<input type='hidden' name='_csrf' value='TOKEN'>`)
  // Shared like the request's helpers, so that components see them too.
  return edge
    .createRenderer()
    .share({ i18n: i18nManager.locale(locale), csrfField, flashMessages: noFlash })
    .renderRaw(template, state)
}

test.serial('the confirm button renders a CSRF-protected form with method spoofing', async (t) => {
  const html = await render(
    `@!confirmButton({ action: '/console/people/7', method: 'delete', label: '删除', message: msg, danger: true })`,
    'zh-CN',
    { msg: '确定删除 "<b>李雷</b>" 吗？' }
  )
  t.regex(html, /<form [^>]*method="POST"/)
  t.regex(html, /action="\/console\/people\/7\?_method=DELETE"/)
  t.regex(html, /<input type='hidden' name='_csrf' value='TOKEN'>/)
  t.regex(html, /data-confirm="确定删除 &quot;&lt;b&gt;李雷&lt;\/b&gt;&quot; 吗？"/)
  t.regex(html, /data-confirm-ok="删除"/)
  t.regex(html, /data-confirm-danger/)
  t.regex(html, /<button type="submit" class="button button--danger[^>]*>\s*删除\s*<\/button>/)

  const withIcon = await render(
    `@confirmButton({ action: '/a', label: 'Delete', message: 'Sure?' })\n@!icon({ name: 'alert' })\n<span>Delete</span>\n@end`,
    'en'
  )
  t.regex(withIcon, /<button[^>]*>\s*<svg class="icon[\s\S]*<span>Delete<\/span>\s*<\/button>/)
  t.notRegex(html, /<script/)

  const plain = await render(
    `@!confirmButton({ action: '/console/jobs/3/retry?from=list', label: 'Retry', message: 'Run it again?', fields: { reason: 'manual' } })`,
    'en'
  )
  t.regex(plain, /action="\/console\/jobs\/3\/retry\?from=list"/)
  t.notRegex(plain, /_method/)
  t.notRegex(plain, /data-confirm-danger/)
  t.regex(plain, /<input type="hidden" name="reason" value="manual">/)

  const patch = await render(
    `@!confirmButton({ action: '/x?a=1', method: 'PATCH', label: 'L', message: 'M' })`
  )
  t.regex(patch, /action="\/x\?a=1&amp;_method=PATCH"/)
})

test.serial('form fields escape values inside attributes', async (t) => {
  const html = await render(
    `@!field({ name: 'email', label: 'E-mail', value: evil, pattern: '[a-z"]+' })`,
    'en',
    {
      evil: '"><b id="injected">x</b>',
    }
  )
  t.regex(html, /value="&quot;&gt;&lt;b id=&quot;injected&quot;&gt;x&lt;\/b&gt;"/)
  t.regex(html, /pattern="\[a-z&quot;\]\+"/)
  t.notRegex(html, /<b id="injected">/)
})

test.serial('every page carries one confirm dialog with translated buttons', async (t) => {
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
  const response = await fetch(`${quad.baseUrl}/login`, { headers: { 'accept-language': 'en' } })
  const html = await response.text()
  t.is(html.match(/<dialog id="confirm-dialog"/g)?.length, 1)
  t.regex(html, /data-confirm-cancel autofocus>取消</)
  const english = await render(`@!confirmDialog()`, 'en')
  t.regex(english, />Cancel</)
  t.regex(english, /data-default-label="Confirm">Confirm</)
})

test.serial('the chart renders an SVG with a name, tooltips and a data table', async (t) => {
  const html = await render(
    `@!chart({ type: 'bar', title: '每日记录', series: [{ label: '记录', values: [3, null, 7] }], labels: ['11-01', '11-02', '11-03'], unit: '条', height: 160 })`
  )
  t.regex(
    html,
    /<svg class="chart-svg chart--bar" viewBox="0 0 640 160" role="img" aria-label="柱状图：每日记录，共 3 个数据点"/
  )
  t.is(html.match(/<rect class="chart-bar/g)?.length, 2)
  t.regex(html, /<title>11-03: 7 条<\/title>/)
  t.regex(html, /<caption>柱状图：每日记录，共 3 个数据点<\/caption>/)
  t.regex(html, /<th scope="row">11-02<\/th>\s*<td>—<\/td>/)
  t.notRegex(html, /<script|style="/)

  const line = await render(
    `@!chart({ type: 'line', series: [{ label: 'A', values: [1, 2] }, { label: 'B', values: [2, 1] }], labels: ['x', 'y'] })`,
    'en'
  )
  t.is(line.match(/<path class="chart-line/g)?.length, 2)
  t.is(line.match(/<circle class="chart-point/g)?.length, 4)
  t.regex(line, /aria-label="Line chart: A and B, 2 values"/)
  t.regex(line, /<ul class="chart-legend"/)
})

/**
 * What the browser fires when it shows a page again: `persisted` is true when
 * the page comes from the back/forward cache, as it was left.
 */
function restoredFromCache(persisted: boolean) {
  return `window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: ${persisted} }))`
}

declareBrowserTests(test, () => {
  let page: Page
  const posts: { url: string; body: string }[] = []

  /**
   * A page with a confirm button, a plain form and the dialog, as the
   * layout renders them. Forms post into an iframe, so the page stays.
   */
  async function openFixturePage() {
    const button = await render(
      `@!confirmButton({ action: base + '/__probe/people/7', method: 'DELETE', label: '删除', message: '确定删除李雷吗？', danger: true })`,
      'zh-CN',
      { base: quad.baseUrl }
    )
    const dialog = await render(`@!confirmDialog()`)
    await page.setContent(`<!DOCTYPE html><html lang="zh-CN"><head>
      <script src="${quad.baseUrl}/js/app.js" defer></script></head><body>
      <iframe name="sink" title="sink"></iframe>
      ${button.replace('<form ', '<form target="sink" ')}
      <form id="plain" method="POST" action="${quad.baseUrl}/__probe/plain" target="sink">
        <input name="note" value="hello">
        <button type="submit" name="go" value="yes" id="go">Go</button>
        <button type="submit" id="never" disabled>Never</button>
      </form>
      ${dialog}
      </body></html>`)
    await page.waitForFunction(`document.readyState === 'complete'`)
  }

  test.before(async () => {
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    page = await browser.newPage()
    page.setDefaultTimeout(10_000)
    await page.route(`${quad.baseUrl}/__probe/**`, (route) => {
      posts.push({ url: route.request().url(), body: route.request().postData() ?? '' })
      return route.fulfill({ status: 200, contentType: 'text/html', body: 'ok' })
    })
  })

  test.serial('asks before a destructive action and sends nothing when cancelled', async (t) => {
    await openFixturePage()
    posts.length = 0
    const danger = page.locator('form.confirm-form button')
    await danger.click()
    const dialog = page.locator('#confirm-dialog')
    await dialog.waitFor({ state: 'visible' })
    t.is(await dialog.locator('.confirm-dialog-message').textContent(), '确定删除李雷吗？')
    const accept = dialog.locator('[data-confirm-accept]')
    t.is(await accept.textContent(), '删除')
    t.true(await accept.evaluate((element) => element.classList.contains('button--danger')))
    // The safe choice has the focus.
    t.true(
      await dialog
        .locator('[data-confirm-cancel]')
        .evaluate((element) => element === element.ownerDocument.activeElement)
    )

    await dialog.locator('[data-confirm-cancel]').click()
    await dialog.waitFor({ state: 'hidden' })
    await danger.click()
    await dialog.waitFor({ state: 'visible' })
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    await page.waitForTimeout(200)
    t.deepEqual(posts, [])
    t.false(await danger.isDisabled())
  })

  test.serial('sends the form once confirmed, with its CSRF token and method', async (t) => {
    await openFixturePage()
    posts.length = 0
    const danger = page.locator('form.confirm-form button')
    await danger.click()
    const sent = page.waitForRequest(`${quad.baseUrl}/__probe/**`)
    await page.locator('#confirm-dialog [data-confirm-accept]').click()
    await sent
    await page.waitForFunction(`document.querySelector('form.confirm-form button').disabled`)
    t.is(posts.length, 1)
    t.is(new URL(posts[0].url).search, '?_method=DELETE')
    t.regex(posts[0].body, /_csrf=TOKEN/)
    t.false(await page.locator('#confirm-dialog').isVisible())
  })

  test.serial(
    'a submitted form keeps its button value and comes back usable from the back/forward cache',
    async (t) => {
      await openFixturePage()
      posts.length = 0
      const sent = page.waitForRequest(`${quad.baseUrl}/__probe/plain`)
      await page.locator('#go').click()
      await sent
      await page.waitForFunction(`document.querySelector('#go').disabled`)
      // Disabled after the submit event, so the clicked button's value was sent.
      t.regex(posts[0].body, /note=hello&go=yes/)

      // What the browser does when it shows the page again from its back/forward cache.
      await page.evaluate(restoredFromCache(true))
      t.false(await page.locator('#go').isDisabled())
      t.true(await page.locator('#never').isDisabled(), 'a button disabled by the page stays so')

      // A page shown normally (not from the cache) is left alone.
      await page.locator('#go').click()
      await page.waitForFunction(`document.querySelector('#go').disabled`)
      await page.evaluate(restoredFromCache(false))
      t.true(await page.locator('#go').isDisabled())
    }
  )

  test.serial('after a restore the confirm button asks again', async (t) => {
    await openFixturePage()
    await page.locator('form.confirm-form button').click()
    const sent = page.waitForRequest(`${quad.baseUrl}/__probe/**`)
    await page.locator('#confirm-dialog [data-confirm-accept]').click()
    await sent
    await page.evaluate(restoredFromCache(true))
    posts.length = 0
    await page.locator('form.confirm-form button').click()
    await page.locator('#confirm-dialog').waitFor({ state: 'visible' })
    await page.waitForTimeout(200)
    t.deepEqual(posts, [], 'nothing is sent before the second confirmation')
    await page.keyboard.press('Escape')
  })
})
