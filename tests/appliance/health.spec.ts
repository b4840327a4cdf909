import test from 'ava'
import { request } from 'node:http'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ env: { QUAD_METRICS_TOKEN: METRICS_TOKEN } })
})

test.after.always(async () => {
  await quad?.close()
})

/** A GET from a chosen local address: 127.0.0.2 is loopback to the kernel but not to Quad. */
function get(path: string, options: { from?: string; headers?: Record<string, string> } = {}) {
  const url = new URL(quad.baseUrl)
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        localAddress: options.from,
        headers: options.headers,
        agent: false,
      },
      (response) => {
        let body = ''
        response.on('data', (chunk) => (body += chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: String(response.headers['content-type'] ?? ''),
            body,
          })
        )
      }
    )
    outgoing.on('error', reject)
    outgoing.end()
  })
}

test.serial('/healthz answers while the process runs, before setup too', async (t) => {
  const response = await get('/healthz')
  t.is(response.status, 200)
  t.deepEqual(JSON.parse(response.body), { status: 'ok' })
})

test.serial('/readyz reports the database, migrations and storage as ready', async (t) => {
  const response = await get('/readyz')
  t.is(response.status, 200)
  const body = JSON.parse(response.body)
  t.is(body.status, 'ok')
  t.deepEqual(
    body.checks.map((check: { name: string; ok: boolean }) => [check.name, check.ok]),
    [
      ['database', true],
      ['migrations', true],
      ['storage', true],
    ]
  )
})

test.serial('/readyz answers 503 when the storage root cannot be written', async (t) => {
  // Permission bits do not stop root, so the temporary folder is replaced by a file.
  const tmp = join(quad.storage, 'tmp')
  renameSync(tmp, `${tmp}.away`)
  writeFileSync(tmp, 'not a folder')
  try {
    const response = await get('/readyz')
    t.is(response.status, 503)
    const body = JSON.parse(response.body)
    t.is(body.status, 'unavailable')
    const storage = body.checks.find((check: { name: string }) => check.name === 'storage')
    t.false(storage.ok)
    t.is(storage.detail, 'ENOTDIR')
    t.true(body.checks.find((check: { name: string }) => check.name === 'database').ok)
  } finally {
    rmSync(tmp)
    renameSync(`${tmp}.away`, tmp)
  }
  t.is((await get('/readyz')).status, 200, 'ready again once the storage is back')
})

test.serial('/metrics answers localhost with Prometheus text', async (t) => {
  await get('/healthz')
  await get('/no-such-page')
  const response = await get('/metrics')
  t.is(response.status, 200)
  t.regex(response.type, /^text\/plain; version=0\.0\.4/)
  const text = response.body
  t.regex(text, /^# TYPE quad_http_request_duration_seconds histogram$/m)
  const bucket = (le: string) =>
    new RegExp(
      `^quad_http_request_duration_seconds_bucket\\{method="GET",route="/healthz",status="200",le="${le.replace('+', '\\+')}"\\} (\\d+)$`,
      'm'
    )
  const infinite = Number(bucket('+Inf').exec(text)?.[1])
  t.true(infinite >= 2, 'counts the /healthz requests')
  t.true(Number(bucket('0.005').exec(text)?.[1]) <= infinite, 'buckets are cumulative')
  t.regex(
    text,
    /^quad_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+$/m
  )
  t.regex(text, /route="unmatched",status="404"/, 'unknown URLs share one label set')
  t.regex(text, /^process_resident_memory_bytes \d+$/m)
  t.regex(text, /^process_cpu_seconds_total [\d.e-]+$/m)
  t.regex(text, /^# TYPE process_start_time_seconds gauge$/m)
})

test.serial(
  '/metrics refuses another host without the token and accepts the bearer token',
  async (t) => {
    const refused = await get('/metrics', { from: '127.0.0.2' })
    t.is(refused.status, 403)
    t.notRegex(refused.body, /quad_http/)

    const wrong = await get('/metrics', {
      from: '127.0.0.2',
      headers: { authorization: `Bearer ${METRICS_TOKEN.replace(/.$/, 'x')}` },
    })
    t.is(wrong.status, 403)

    const accepted = await get('/metrics', {
      from: '127.0.0.2',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
    t.is(accepted.status, 200)
    t.regex(accepted.body, /quad_http_request_duration_seconds_bucket/)
  }
)
