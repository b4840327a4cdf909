import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_PORTAL_LOGIN_RATE_LIMIT: '3' } })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

test.serial(
  'rate-limits portal sign-in posts per client address, apart from the console',
  async (t) => {
    const client = new TestClient(quad.baseUrl)
    await client.get('/portal/login')
    const statuses = []
    for (let i = 0; i < 4; i++) {
      const response = await client.post('/portal/login', {
        personNo: `S${i}`,
        password: 'Wrong2026pass',
      })
      statuses.push(response.status)
    }
    t.deepEqual(statuses, [302, 302, 302, 429])
    const refused = await client.post('/portal/login', {
      personNo: 'S9',
      password: 'Wrong2026pass',
    })
    t.is(refused.status, 429)
    t.truthy(refused.headers.get('retry-after'))
    // The console's own sign-in limit is counted separately.
    await client.get('/login')
    const consoleAttempt = await client.post('/login', { username: 'someone', password: 'x' })
    t.is(consoleAttempt.status, 302)
  }
)
