/**
 * A small browser-like HTTP client for tests: keeps cookies, reads the CSRF
 * token from the last HTML page, and does not follow redirects unless asked.
 */
export interface TestResponse {
  status: number
  headers: Headers
  text: string
  location: string | null
  json<T = any>(): T
}

export class TestClient {
  private cookies = new Map<string, string>()
  csrfToken: string | null = null
  /** The last page fetched with GET, sent as Referer like a browser does. */
  lastPage: string | null = null

  constructor(private baseUrl: string) {}

  private cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  private remember(headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const index = pair.indexOf('=')
      const name = pair.slice(0, index).trim()
      const value = pair.slice(index + 1).trim()
      const expired = attributes.some((attribute) =>
        /max-age=0\b|expires=thu, 01 jan 1970/i.test(attribute.trim())
      )
      if (expired || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name)
  }

  setCookie(name: string, value: string) {
    this.cookies.set(name, value)
  }

  clearCookies() {
    this.cookies.clear()
  }

  async request(
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {}
  ): Promise<TestResponse> {
    const response = await fetch(this.baseUrl + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        ...(this.lastPage ? { referer: this.lastPage } : {}),
        ...init.headers,
      },
      body: init.body,
    })
    this.remember(response.headers)
    if (method === 'GET' && response.status === 200) this.lastPage = this.baseUrl + path
    const text = await response.text()
    const token = /name=['"]_csrf['"] value=['"]([^'"]+)['"]/.exec(text)
    if (token) this.csrfToken = token[1]
    return {
      status: response.status,
      headers: response.headers,
      text,
      location: response.headers.get('location'),
      json: () => JSON.parse(text),
    }
  }

  get(path: string, headers: Record<string, string> = {}) {
    return this.request('GET', path, { headers })
  }

  /** Posts a form; adds the CSRF token of the last page unless `_csrf` is given (null leaves it out). */
  post(
    path: string,
    form: Record<string, string | null | undefined>,
    headers: Record<string, string> = {}
  ) {
    const body = new URLSearchParams()
    const withToken = '_csrf' in form ? form : { ...form, _csrf: this.csrfToken }
    for (const [key, value] of Object.entries(withToken))
      if (value !== null && value !== undefined) body.set(key, value)
    return this.request('POST', path, {
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    })
  }

  /** Follows redirects from a response until a non-redirect answer. */
  async follow(response: TestResponse, limit = 5): Promise<TestResponse> {
    let current = response
    for (
      let i = 0;
      i < limit && current.location && current.status >= 300 && current.status < 400;
      i++
    ) {
      current = await this.get(current.location.replace(this.baseUrl, ''))
    }
    return current
  }
}
