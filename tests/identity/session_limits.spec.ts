import test from 'ava'
import { setTimeout as sleep } from 'node:timers/promises'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_IDLE_TIMEOUT: '2s', QUAD_LOGIN_RATE_LIMIT: '4' } })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  await quad?.close()
})

test.serial('ends a console session that was idle longer than the timeout', async (t) => {
  const { givenAdmin, signIn } = await import('#tests/helpers/fixtures')
  const admin = await givenAdmin()
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  t.is((await client.get('/console')).status, 200)
  await sleep(1000)
  t.is((await client.get('/console')).status, 200, 'activity keeps the session alive')
  await sleep(2500)
  const expired = await client.get('/console')
  t.is(expired.location, '/login')
  const page = await client.follow(expired)
  t.regex(page.text, /会话已结束/)
  t.is((await client.get('/console')).location, '/login')
})

test.serial('rate-limits sign-in attempts per client address', async (t) => {
  const client = new TestClient(quad.baseUrl)
  await client.get('/login')
  const statuses = []
  for (let i = 0; i < 6; i++) {
    const response = await client.post('/login', {
      username: `someone${i}`,
      password: 'Wrong-password-1',
    })
    statuses.push(response.status)
  }
  // The limit (4 a minute) is shared with the sign-in of the test before.
  const firstRefusal = statuses.indexOf(429)
  t.true(firstRefusal > 0, `statuses: ${statuses.join(',')}`)
  t.true(statuses.slice(0, firstRefusal).every((status) => status === 302))
  t.true(statuses.slice(firstRefusal).every((status) => status === 429))
  const refused = await client.post('/login', { username: 'someone', password: 'Wrong-password-1' })
  t.is(refused.status, 429)
  t.regex(refused.text, /请求次数超过限制/)
  t.truthy(refused.headers.get('retry-after'))
})
