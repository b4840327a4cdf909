/**
 * Job types used only by the worker tests. The test process imports this
 * file; the worker processes it starts load it through QUAD_TEST_JOBS
 * (honoured only with NODE_ENV=test). It imports nothing but the registry,
 * so it can be loaded before or after the application boots.
 */
import { appendFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

export interface RecordPayload {
  key: string
  file: string
  sleepMs?: number
}

/** Appends one line per run to a file: the evidence of how often it ran, and where. */
export const recordJob = defineJob<RecordPayload>('test.record', async (payload, context) => {
  if (payload.sleepMs) await sleep(payload.sleepMs)
  appendFileSync(
    payload.file,
    JSON.stringify({ key: payload.key, worker: context.workerId, attempt: context.attempt }) + '\n'
  )
})

/** Always fails, with credentials in its message that must not be stored. */
export const failingJob = defineJob<{ secret: string }>(
  'test.fail',
  (payload) => {
    throw new Error(
      `cannot reach postgres://quad:${payload.secret}@db.internal/quad (password=${payload.secret})`
    )
  },
  { maxAttempts: 3, backoff: { baseMs: 1000, maxMs: 60_000 } }
)

// Every-second schedules for the worker processes of worker_processes.spec.ts:
// one runs inline, one hands each tick to a job.
const tickFile = process.env.QUAD_TEST_TICK_FILE
if (tickFile) {
  const tickJob = defineJob<{ tickAt: string }>('test.tick_record', (payload, context) => {
    appendFileSync(
      tickFile,
      JSON.stringify({ kind: 'job', tick: payload.tickAt, worker: context.workerId }) + '\n'
    )
  })
  defineSchedule(
    'test.tick',
    '* * * * * *',
    (tick) => {
      appendFileSync(
        tickFile,
        JSON.stringify({ kind: 'inline', tick: tick.tickAt.toISOString(), worker: tick.workerId }) +
          '\n'
      )
    },
    { timeZone: 'UTC' }
  )
  defineSchedule('test.tick_job', '* * * * * *', tickJob, { timeZone: 'UTC' })
}
