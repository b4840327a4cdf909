/**
 * Two real `node ace worker:run` processes against the test app's database.
 * Runs on PostgreSQL and on SQLite: in WAL mode with a busy timeout several
 * processes share one SQLite file, each write waiting its turn.
 */
import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const JOBS = 40

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ http: false })
  await import('#tests/appliance/worker_test_jobs')
})

test.after.always(async () => {
  await quad?.close()
})

interface WorkerProcess {
  child: ChildProcess
  output: () => string
  ready: Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `node ace worker:run` with the test app's environment (storage root, database). */
function startWorker(extraEnv: Record<string, string>): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['ace', 'worker:run', '--concurrency', '3', '--poll-interval', '50', '--grace', '10'],
    {
      cwd: APP_ROOT,
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  )
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal }))
  )
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready:\n${output}`)), 30_000)
    child.stdout!.on('data', () => {
      if (output.includes('"msg":"worker started"')) {
        clearTimeout(timer)
        resolve()
      }
    })
    exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`worker exited before it was ready:\n${output}`))
    })
  })
  ready.catch(() => {})
  return { child, output: () => output, ready, exited }
}

function lines(file: string): any[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}

async function waitFor(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 20_000
) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test.serial('two worker processes run every job exactly once and every tick once', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { enqueue, jobCounts } = await import('#appliance/services/jobs')
  const records = join(quad.storage, 'executions.log')
  const ticks = join(quad.storage, 'ticks.log')
  const env = { QUAD_TEST_JOBS: 'tests/appliance/worker_test_jobs.ts', QUAD_TEST_TICK_FILE: ticks }
  const workers = [startWorker(env), startWorker(env)]
  try {
    await Promise.all(workers.map((worker) => worker.ready))

    await db.transaction(async (trx) => {
      for (let i = 0; i < JOBS; i++)
        await enqueue('test.record', { key: `job-${i}`, file: records, sleepMs: 20 }, { trx })
    })
    const succeeded = () =>
      db
        .from('jobs')
        .where('name', 'test.record')
        .where('status', 'succeeded')
        .count('* as total')
        .first()
        .then((row) => Number(row.total))
    await waitFor('all jobs to succeed', async () => (await succeeded()) === JOBS)
    // At least two whole ticks of both schedules, the last one's job included.
    await waitFor('two ticks', () => {
      const seen = lines(ticks)
      const inline = new Set(seen.filter((tick) => tick.kind === 'inline').map((tick) => tick.tick))
      const viaJob = new Set(seen.filter((tick) => tick.kind === 'job').map((tick) => tick.tick))
      return inline.size >= 2 && viaJob.size >= 2
    })
  } catch (error) {
    t.log(await jobCounts(), workers.map((worker) => worker.output()).join('\n----\n'))
    throw error
  } finally {
    for (const worker of workers) worker.child.kill('SIGTERM')
  }
  const exits = await Promise.all(workers.map((worker) => worker.exited))
  t.deepEqual(
    exits,
    [
      { code: 0, signal: null },
      { code: 0, signal: null },
    ],
    workers.map((worker) => worker.output()).join('\n----\n')
  )

  // Each job ran exactly once, and both processes took part.
  const runs = lines(records)
  const keys = runs.map((run) => run.key)
  t.is(runs.length, JOBS, 'no job ran twice')
  t.is(new Set(keys).size, JOBS, 'every job ran')
  t.true(
    runs.every((run) => run.attempt === 1),
    'no job needed a second attempt'
  )
  const byWorker = new Set(runs.map((run) => run.worker))
  t.is(byWorker.size, 2, `both workers ran jobs: ${[...byWorker].join(', ')}`)

  // Each tick ran in one process only, inline or through its job.
  const seen = lines(ticks)
  for (const kind of ['inline', 'job']) {
    const ticksOfKind = seen.filter((tick) => tick.kind === kind).map((tick) => tick.tick)
    t.is(new Set(ticksOfKind).size, ticksOfKind.length, `a ${kind} tick ran twice`)
  }
  const inlineRuns = await db.from('schedule_runs').where('schedule', 'test.tick')
  t.is(inlineRuns.length, seen.filter((tick) => tick.kind === 'inline').length)
  const jobTicks = await db.from('schedule_runs').where('schedule', 'test.tick_job')
  const tickJobs = await db.from('jobs').where('name', 'test.tick_record')
  t.is(tickJobs.length, jobTicks.length, 'one job per claimed tick')

  // Stopped cleanly: nothing is left running under a lease.
  const counts = await jobCounts()
  t.is(counts.running, 0)
  t.is(counts.failed + counts.dead, 0)
})
