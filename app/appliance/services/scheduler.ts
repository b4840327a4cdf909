import cron, { type ScheduledTask } from 'node-cron'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import { dbTime, describeError, enqueue } from '#appliance/services/jobs'
import { definedSchedules, type ScheduleDefinition } from '#appliance/services/jobs_registry'

/**
 * Cron schedules for the worker. node-cron fires each tick in every worker
 * process (pm2 instances, other boxes); the tick runs only in the process
 * whose insert of the (schedule, tick) row succeeds.
 */

export type TickOutcome = 'taken_elsewhere' | 'succeeded' | 'failed' | 'enqueued'

type Client = QueryClientContract | TransactionClientContract

/** The tick's slot to the whole second: the same value in every process. */
function slotOf(tickAt: Date): Date {
  return new Date(Math.floor(tickAt.getTime() / 1000) * 1000)
}

/**
 * Inserts the tick's row; returns its id, or null when another process got
 * there first. ON CONFLICT DO NOTHING keeps the loser's transaction usable
 * on PostgreSQL (a unique violation would abort it).
 */
async function claimTick(
  client: Client,
  schedule: string,
  tickAt: Date,
  workerId: string,
  status: 'running' | 'enqueued'
): Promise<number | null> {
  const now = dbTime(new Date(), client)
  const result = await client.rawQuery(
    `INSERT INTO schedule_runs (schedule, tick_at, status, worker_id, started_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (schedule, tick_at) DO NOTHING
     RETURNING id`,
    [schedule, dbTime(tickAt, client), status, workerId, now]
  )
  const rows: any[] = Array.isArray(result) ? result : (result?.rows ?? [])
  return rows.length > 0 ? Number(rows[0].id) : null
}

/**
 * Runs one tick of a schedule unless another process already has. A job
 * target is enqueued in the same transaction as the claim, so the tick's
 * work is handed over exactly once even if this process dies right after.
 */
export async function runTick(
  schedule: ScheduleDefinition,
  tickAt: Date,
  workerId: string
): Promise<TickOutcome> {
  const slot = slotOf(tickAt)
  const target = schedule.target
  const tickLogger = logger.child({ schedule: schedule.name, tick: slot.toISOString() })

  if (target.kind === 'job') {
    return db.transaction(async (trx) => {
      const runId = await claimTick(trx, schedule.name, slot, workerId, 'enqueued')
      if (runId === null) return 'taken_elsewhere'
      const payload = target.payload ?? { schedule: schedule.name, tickAt: slot.toISOString() }
      const jobId = await enqueue(target.job, payload, { trx })
      await trx
        .from('schedule_runs')
        .where('id', runId)
        .update({ job_public_id: jobId, finished_at: dbTime(new Date(), trx) })
      tickLogger.info({ job: jobId }, 'scheduled job enqueued')
      return 'enqueued'
    })
  }

  const client = db.connection()
  const runId = await claimTick(client, schedule.name, slot, workerId, 'running')
  if (runId === null) return 'taken_elsewhere'
  let outcome: TickOutcome = 'succeeded'
  let error: string | null = null
  try {
    await target.handler({ schedule: schedule.name, tickAt: slot, workerId, logger: tickLogger })
  } catch (failure) {
    outcome = 'failed'
    error = describeError(failure)
    tickLogger.error({ err: error }, 'scheduled task failed')
  }
  await client
    .from('schedule_runs')
    .where('id', runId)
    .update({ status: outcome, error, finished_at: dbTime(new Date(), client) })
  return outcome
}

export interface RunningSchedules {
  names: string[]
  /** Stops firing new ticks and waits for the ticks in progress. */
  stop(): Promise<void>
}

/**
 * Starts a node-cron task per defined schedule. Ticks are read in the
 * schedule's time zone, else in `defaultTimeZone` (the school's).
 */
export function startSchedules(options: {
  workerId: string
  defaultTimeZone: string
  schedules?: ScheduleDefinition[]
}): RunningSchedules {
  const inFlight = new Set<Promise<unknown>>()
  const tasks: ScheduledTask[] = []
  const schedules = options.schedules ?? definedSchedules()
  for (const schedule of schedules) {
    const task = cron.createTask(
      schedule.cron,
      (context) => {
        const tick = runTick(schedule, context.date, options.workerId).catch((error) => {
          logger.error(
            { schedule: schedule.name, err: describeError(error) },
            'could not run a scheduled tick'
          )
        })
        inFlight.add(tick)
        tick.finally(() => inFlight.delete(tick))
        return tick
      },
      {
        name: schedule.name,
        timezone: schedule.timeZone ?? options.defaultTimeZone,
        // A slow tick in this process does not stack up behind itself; another
        // process may still take the next tick.
        noOverlap: true,
        // Still run a tick that fired late because the event loop was busy
        // (node-cron never runs a slot after the next one is due).
        missedExecutionTolerance: 60_000,
      }
    )
    task.start()
    tasks.push(task)
  }
  return {
    names: schedules.map((schedule) => schedule.name),
    async stop() {
      for (const task of tasks) await task.destroy()
      await Promise.allSettled([...inFlight])
    },
  }
}
