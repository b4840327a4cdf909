/**
 * The OpenID Connect token endpoint over HTTP, on SQLite and on PostgreSQL:
 * a confidential first-party app and a person signed in to the portal;
 * authorization codes are obtained beforehand through /oidc/auth as a
 * browser obtains them (PKCE, S256), then redeemed at /oidc/token at a fixed
 * offered load (open loop: each request leaves at its scheduled time and its
 * latency counts from that time), and once more as fast as a few clients can
 * go. Each redemption returns an access token and a signed ID token.
 *
 *   npm run bench oidc_token [-- --rate 30 --seconds 10 --concurrency 4 --db sqlite|pg]
 *
 * Authorization codes live 60 s: the codes of each phase are obtained just
 * before it, and the figure printed for obtaining them says whether they fit.
 */
import { createHash, randomBytes } from 'node:crypto'
import { option, ranOnEachDatabase } from './support/cli.js'

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
}

interface PendingCode {
  code: string
  verifier: string
}

export default async function oidcTokenBench(args: string[]) {
  if (await ranOnEachDatabase('oidc_token', args)) return
  const rate = Number(option(args, 'rate', '30'))
  const seconds = Number(option(args, 'seconds', '10'))
  const concurrency = Number(option(args, 'concurrency', '4'))
  const dbName = option(args, 'db', 'sqlite')
  const offered = Math.round(rate * seconds)

  const { bootOidcTestApp, browse, givenOidcApp, CALLBACK } =
    await import('../tests/app_center/helpers.js')
  const quad = await bootOidcTestApp()
  try {
    const { TestClient } = await import('../tests/helpers/http.js')
    const { givenSchool } = await import('../tests/helpers/fixtures.js')
    const { givenPerson, portalSignIn } = await import('../tests/portal/fixtures.js')
    await givenSchool()
    const person = await givenPerson({ name: '压测人员' })
    const registered = await givenOidcApp({ firstParty: true })
    const basic = `Basic ${Buffer.from(
      `${encodeURIComponent(registered.clientId)}:${encodeURIComponent(registered.secret!)}`
    ).toString('base64')}`
    const browser = new TestClient(quad.baseUrl)
    await portalSignIn(browser, person)

    /** One code, through the authorization endpoint, as the browser of a signed-in person. */
    const obtain = async (): Promise<PendingCode> => {
      const verifier = randomBytes(32).toString('base64url')
      const challenge = createHash('sha256').update(verifier).digest('base64url')
      const query = new URLSearchParams({
        client_id: registered.clientId,
        response_type: 'code',
        redirect_uri: CALLBACK,
        scope: 'openid profile',
        state: randomBytes(8).toString('hex'),
        nonce: randomBytes(8).toString('hex'),
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })
      const journey = await browse(browser, quad.baseUrl, `${quad.issuer}/auth?${query}`)
      const code = journey.left?.searchParams.get('code')
      if (!code) throw new Error(`no code: ${journey.response.status}`)
      return { code, verifier }
    }
    const obtainMany = async (count: number) => {
      const codes: PendingCode[] = []
      for (let index = 0; index < count; index++) codes.push(await obtain())
      return codes
    }

    let failures = 0
    /** One redemption; anything but 200 with an ID token counts as a failure. */
    const redeem = async (pending: PendingCode) => {
      try {
        const response = await fetch(`${quad.issuer}/token`, {
          method: 'POST',
          headers: { 'authorization': basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: pending.code,
            redirect_uri: CALLBACK,
            code_verifier: pending.verifier,
          }),
        })
        const body = (await response.json()) as { id_token?: string }
        if (response.status !== 200 || !body.id_token) failures++
      } catch {
        failures++
      }
    }

    // Warm up the routes, the signing keys and the connection pool.
    for (const pending of await obtainMany(30)) await redeem(pending)
    failures = 0

    let started = performance.now()
    const openCodes = await obtainMany(offered)
    const obtainSeconds = (performance.now() - started) / 1000

    const latencies: number[] = []
    started = performance.now()
    await Promise.all(
      openCodes.map(async (pending, index) => {
        const due = started + (index * 1000) / rate
        const wait = due - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        await redeem(pending)
        latencies.push(performance.now() - due)
      })
    )
    const openElapsed = (performance.now() - started) / 1000
    const openFailures = failures
    latencies.sort((a, b) => a - b)

    const closedCodes = await obtainMany(offered)
    started = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < closedCodes.length) await redeem(closedCodes[next++])
      })
    )
    const closedRate = offered / ((performance.now() - started) / 1000)

    console.log(
      `\nOIDC /oidc/token (authorization_code + PKCE) over HTTP, ${dbName}, Node ${process.version}`
    )
    console.log(
      `  codes obtained through /oidc/auth: ${(offered / obtainSeconds).toFixed(0)}/s ` +
        `(${obtainSeconds.toFixed(1)} s for ${offered}; codes live 60 s)`
    )
    console.log(
      `  offered ${rate}/s for ${seconds}s: ${(offered / openElapsed).toFixed(0)}/s answered, ` +
        `latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
        `max ${latencies[latencies.length - 1].toFixed(1)} ms, ${openFailures} failed`
    )
    console.log(
      `  closed loop, ${concurrency} clients: ${closedRate.toFixed(0)} redemptions/s, ` +
        `${failures - openFailures} failed`
    )
  } finally {
    await quad.close()
  }
}
