import { validate as validCron } from 'node-cron'
import type { Logger } from '@adonisjs/core/logger'

/**
 * The jobs and schedules this process knows. Modules declare theirs with
 * defineJob / defineSchedule when their definition file is imported; the
 * worker loads every definition file (jobs_catalog.ts) before it starts.
 *
 * This file holds plain data and imports no container service, so that a
 * definition file can be imported before or after the application boots.
 */

/** What a handler learns about the run it is part of. */
export interface JobContext {
  /** The job's public id, as shown in the console. */
  jobId: string
  name: string
  /** 1 for the first run, 2 for the first retry, and so on. */
  attempt: number
  maxAttempts: number
  workerId: string
  logger: Logger
  /** Aborted when the worker shuts down and the job overran the grace period. */
  signal: AbortSignal
}

export type JobHandler<Payload> = (payload: Payload, context: JobContext) => unknown

/** Exponential backoff: about base × 2^(attempt − 1), capped, with jitter. */
export interface Backoff {
  baseMs: number
  maxMs: number
}

export interface JobOptions {
  /** Runs before the job is dead (default 5). */
  maxAttempts?: number
  backoff?: Partial<Backoff>
}

export interface JobDefinition<Payload = unknown> {
  name: string
  handler: JobHandler<Payload>
  maxAttempts: number
  backoff: Backoff
}

export const DEFAULT_MAX_ATTEMPTS = 5
export const DEFAULT_BACKOFF: Backoff = { baseMs: 10_000, maxMs: 60 * 60_000 }

/** Lowercase words joined by dots, e.g. "messaging.send_sms". */
const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/

const jobs = new Map<string, JobDefinition<any>>()

/**
 * Declares a job type. The handler must be safe to run again after a crash
 * (a worker that dies mid-run leaves the job to be retried once its lease expires).
 */
export function defineJob<Payload = unknown>(
  name: string,
  handler: JobHandler<Payload>,
  options: JobOptions = {}
): JobDefinition<Payload> {
  if (!NAME.test(name) || name.length > 100) throw new Error(`Invalid job name "${name}"`)
  if (jobs.has(name)) throw new Error(`Job "${name}" is already defined`)
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new Error(`Job "${name}": maxAttempts must be a positive integer`)
  const definition: JobDefinition<Payload> = {
    name,
    handler,
    maxAttempts,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
  }
  jobs.set(name, definition)
  return definition
}

export function jobDefinition(name: string): JobDefinition<unknown> | undefined {
  return jobs.get(name)
}

/** Names of the jobs this process can run: a worker claims only these. */
export function definedJobNames(): string[] {
  return [...jobs.keys()]
}

/** What a schedule does at each tick: run a function, or enqueue a job. */
export type ScheduleTarget =
  | { kind: 'job'; job: string; payload?: unknown }
  | { kind: 'handler'; handler: (tick: ScheduleTick) => unknown }

export interface ScheduleTick {
  schedule: string
  /** The tick's slot (whole seconds, UTC), the same in every process. */
  tickAt: Date
  workerId: string
  logger: Logger
}

export interface ScheduleDefinition {
  name: string
  cron: string
  target: ScheduleTarget
  /** IANA zone the cron expression is read in; the school's zone when omitted. */
  timeZone?: string
}

const schedules = new Map<string, ScheduleDefinition>()

/**
 * Declares a cron schedule. Every worker process fires it; a database row per
 * tick makes only one of them run it. Give a job name (or definition) for
 * work that must not be lost: the job is enqueued in the same transaction
 * that claims the tick, and retried like any job. A plain function runs at
 * most once per tick.
 */
export function defineSchedule(
  name: string,
  cron: string,
  target: string | JobDefinition<any> | ((tick: ScheduleTick) => unknown),
  options: { timeZone?: string; payload?: unknown } = {}
): ScheduleDefinition {
  if (!NAME.test(name) || name.length > 100) throw new Error(`Invalid schedule name "${name}"`)
  if (schedules.has(name)) throw new Error(`Schedule "${name}" is already defined`)
  if (!validCron(cron)) throw new Error(`Schedule "${name}": invalid cron expression "${cron}"`)
  const definition: ScheduleDefinition = {
    name,
    cron,
    timeZone: options.timeZone,
    target:
      typeof target === 'function'
        ? { kind: 'handler', handler: target }
        : {
            kind: 'job',
            job: typeof target === 'string' ? target : target.name,
            payload: options.payload,
          },
  }
  schedules.set(name, definition)
  return definition
}

export function definedSchedules(): ScheduleDefinition[] {
  return [...schedules.values()]
}
