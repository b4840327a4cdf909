/**
 * Real-browser tests: Debian's Chromium driven by playwright-core. Quad never
 * downloads a browser; the system one is used (`apt-get install chromium`).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { TestFn } from 'ava'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'

/** Where Debian installs Chromium; QUAD_CHROMIUM points elsewhere if needed. */
export const CHROMIUM_PATH = process.env.QUAD_CHROMIUM ?? '/usr/bin/chromium'

/**
 * Test machines have no internet access: without the background-networking
 * flags Chromium keeps trying to reach Google's services at every start.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export const TABLET = { width: 768, height: 1024 }
export const DESKTOP = { width: 1280, height: 800 }

/** Screenshots go to tmp/ (ignored by git), for a person to look at. */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'tmp', 'browser')

/** Null when Chromium can run here, else the reason and how to fix it. */
export function chromiumUnavailable(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null
  return `Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set QUAD_CHROMIUM)`
}

/**
 * Declares the browser tests of a file, or explains why they cannot run: in
 * CI (CI=true) a missing Chromium is a failure, elsewhere a visible skip.
 */
export function declareBrowserTests(test: TestFn, declare: () => void) {
  const reason = chromiumUnavailable()
  if (!reason) return declare()
  if (process.env.CI === 'true') {
    test('the browser tests can run', (t) => {
      t.fail(reason)
    })
  } else {
    test.skip(`browser tests skipped: ${reason}`, () => {})
  }
}

/** What went wrong in the browser during a test, to be asserted empty. */
export interface BrowserProblems {
  /** console.error calls, and Chromium's own errors (CSP violations, failed loads). */
  consoleErrors: string[]
  /** Uncaught exceptions in page scripts. */
  pageErrors: string[]
  /** Requests to anything but the server under test. */
  foreignRequests: string[]
}

export interface BrowserSession {
  browser: Browser
  context: BrowserContext
  page: Page
  problems: BrowserProblems
  /** Saves a full-page screenshot under tmp/browser and returns its path. */
  screenshot(name: string): Promise<string>
  close(): Promise<void>
}

export interface OpenOptions {
  /** Browser language, sent as Accept-Language (default zh-CN, as on a school PC). */
  locale?: string
  viewport?: { width: number; height: number }
  /** Longest wait for a selector or a navigation (default 10 s: pages here answer in ms). */
  timeout?: number
  context?: BrowserContextOptions
  /** Host names answered by a local server: { 'app.school.test': 'http://127.0.0.1:4567' }. */
  hosts?: Record<string, string>
}

/**
 * Launches Chromium with a fresh profile and opens one page whose console
 * errors, uncaught exceptions and requests to other hosts are collected.
 */
/** Chromium's resolver rules sending each name (port 80) to a local address and port. */
function hostRules(hosts: Record<string, string> = {}): string[] {
  const rules = Object.entries(hosts).map(([name, address]) => {
    const { host } = new URL(address)
    return `MAP ${name}:80 ${host}`
  })
  return rules.length > 0 ? [`--host-resolver-rules=${rules.join(', ')}`] : []
}

export async function openBrowser(baseUrl: string, options: OpenOptions = {}) {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...hostRules(options.hosts)],
    headless: true,
  })
  const context = await browser.newContext({
    locale: options.locale ?? 'zh-CN',
    viewport: options.viewport ?? DESKTOP,
    ...options.context,
  })
  context.setDefaultTimeout(options.timeout ?? 10_000)
  const problems: BrowserProblems = { consoleErrors: [], pageErrors: [], foreignRequests: [] }
  const origin = new URL(baseUrl).origin

  // Chromium also reports CSP violations on the console; this listener makes
  // sure each one is seen with its directive, even if that wording changes.
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + event.blockedURI)
    })`,
  })
  context.on('request', (request) => {
    const url = request.url()
    if (url.startsWith('data:') || url.startsWith('about:')) return
    if (new URL(url).origin !== origin) problems.foreignRequests.push(url)
  })
  context.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location()
      problems.consoleErrors.push(`${message.text()} (${where.url}:${where.lineNumber})`)
    }
  })
  context.on('weberror', (error) => {
    problems.pageErrors.push(String(error.error()))
  })

  const page = await context.newPage()
  const session: BrowserSession = {
    browser,
    context,
    page,
    problems,
    async screenshot(name: string) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true })
      const path = join(SCREENSHOT_DIR, `${name}.png`)
      await page.screenshot({ path, fullPage: true, animations: 'disabled' })
      return path
    },
    async close() {
      await context.close()
      await browser.close()
    },
  }
  return session
}

/**
 * Template syntax that reached the screen instead of being rendered (an Edge
 * tag written inline inside an HTML tag, a broken interpolation).
 */
export async function templateLeftovers(page: Page): Promise<string[]> {
  const text = await page.locator('body').innerText()
  return text.match(/@!?[A-Za-z][\w.]*\(|\{\{|\}\}/g) ?? []
}

/** The path of the page's address, for asserting where a navigation landed. */
export function pathOf(page: Page) {
  return new URL(page.url()).pathname
}

/**
 * Runs an action (a click, a submit) and waits until it has led, through any
 * redirects, to a loaded page at `path`. Unlike waitForURL it also waits when
 * the page comes back to the address it was on, as a form with errors does.
 */
export async function navigateBy(page: Page, path: string, action: () => Promise<unknown>) {
  const committed = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame() && new URL(frame.url()).pathname === path,
  })
  // Keeps an early failure of the wait from going unhandled while the action runs.
  committed.catch(() => {})
  await action()
  try {
    await committed
  } catch (error) {
    throw new Error(`expected to land on ${path}, but the page is at ${page.url()}`, {
      cause: error,
    })
  }
  await page.waitForLoadState('load')
}
