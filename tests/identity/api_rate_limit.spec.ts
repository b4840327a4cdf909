import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp
let first: string
let second: string

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_API_RATE_LIMIT: '3' } })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const { createApiClient } = await import('#identity/api/api_clients')
  await givenSchool()
  const issue = async (name: string) => {
    const result = await createApiClient({ name, scopes: ['people:read'] }, SYSTEM_ACTOR)
    if (!result.ok) throw new Error(result.error)
    return result.value.token
  }
  first = await issue('教务系统')
  second = await issue('人事系统')
})

test.after.always(async () => {
  await quad?.close()
})

const list = (token: string) =>
  fetch(`${quad.baseUrl}/api/v1/people`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  })

test('answers 429 with Retry-After once a client exceeds its limit, counting each client apart', async (t) => {
  for (let index = 0; index < 3; index++) t.is((await list(first)).status, 200)
  const limited = await list(first)
  t.is(limited.status, 429)
  const retryAfter = Number(limited.headers.get('retry-after'))
  t.true(retryAfter > 0 && retryAfter <= 60)
  const body = (await limited.json()) as any
  t.is(body.error.code, 'rate_limited')
  t.deepEqual(body.error.details, [])

  // Another client has its own budget.
  t.is((await list(second)).status, 200)
})
