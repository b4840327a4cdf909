import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import { newPublicId } from '#core/services/ids'
import { auditJson } from '#core/services/audit'
import type { Gauge } from '#appliance/services/metrics'
import {
  DEFAULT_BACKOFF,
  definedJobNames,
  jobDefinition,
  type Backoff,
  type JobDefinition,
} from '#appliance/services/jobs_registry'

/**
 * The durable job table: enqueue inside the caller's transaction, claim with
 * a database lease, run, retry with backoff, and give up ("dead") after the
 * last attempt. Any number of worker processes on any number of boxes may
 * share one table; each job runs once per attempt.
 */

export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'dead'] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

/** Statuses an operator may send back to the queue. */
export const RERUNNABLE_STATUSES: readonly JobStatus[] = ['failed', 'dead']

/** Payloads are small instructions (ids, not documents). */
export const MAX_PAYLOAD_BYTES = 64 * 1024

/** Stored error text is cut to this many characters. */
export const MAX_ERROR_LENGTH = 2000

export const DEFAULT_LEASE_MS = 60_000

type Client = QueryClientContract | TransactionClientContract

function usesPostgres(client: Client = db.connection()): boolean {
  return client.dialect.name === 'postgres'
}

/**
 * A time as the jobs tables store it: a timestamptz on PostgreSQL; on SQLite
 * a fixed-width UTC text with milliseconds, which compares correctly as text.
 */
export function dbTime(time: Date, client: Client = db.connection()): Date | string {
  if (usesPostgres(client)) return time
  return DateTime.fromJSDate(time, { zone: 'utc' }).toFormat('yyyy-MM-dd HH:mm:ss.SSS')
}

/** Reads a time column back from either database. */
export function readTime(value: unknown): DateTime | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  if (typeof value === 'number') return DateTime.fromMillis(value, { zone: 'utc' })
  const text = String(value)
  const sql = DateTime.fromSQL(text, { zone: 'utc' })
  return sql.isValid ? sql : DateTime.fromISO(text, { zone: 'utc' })
}

function rowsOf(result: any): any[] {
  return Array.isArray(result) ? result : (result?.rows ?? [])
}

/** A row of the jobs table as the console and commands see it. */
export interface JobRecord {
  id: number
  publicId: string
  name: string
  payload: string
  status: JobStatus
  priority: number
  attempts: number
  maxAttempts: number
  runAt: DateTime
  lockedBy: string | null
  lockedUntil: DateTime | null
  lastError: string | null
  createdAt: DateTime
  updatedAt: DateTime
  finishedAt: DateTime | null
}

function toRecord(row: any): JobRecord {
  return {
    id: Number(row.id),
    publicId: row.public_id,
    name: row.name,
    payload: row.payload,
    status: row.status,
    priority: Number(row.priority),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: readTime(row.run_at)!,
    lockedBy: row.locked_by ?? null,
    lockedUntil: readTime(row.locked_until),
    lastError: row.last_error ?? null,
    createdAt: readTime(row.created_at)!,
    updatedAt: readTime(row.updated_at)!,
    finishedAt: readTime(row.finished_at),
  }
}

export interface EnqueueOptions {
  /**
   * The caller's transaction: the job exists if and only if it commits.
   * Without one the job is written at once.
   */
  trx?: TransactionClientContract
  /** Not before this time (default: now). */
  runAt?: Date | DateTime
  /** Not before this many milliseconds from now; ignored when runAt is given. */
  delayMs?: number
  /** Higher runs first among due jobs (default 0). */
  priority?: number
  /** Overrides the job definition's maxAttempts. */
  maxAttempts?: number
}

/**
 * Adds a job to the queue and returns its public id. The job type must be
 * defined in this process (import its definition file), so that a typo fails
 * here rather than leaving a job no worker claims.
 */
export async function enqueue<Payload>(
  job: string | JobDefinition<Payload>,
  payload: Payload,
  options: EnqueueOptions = {}
): Promise<string> {
  const name = typeof job === 'string' ? job : job.name
  const definition = jobDefinition(name)
  if (!definition) throw new Error(`Unknown job "${name}": import its definition first`)
  const text = JSON.stringify(payload ?? null)
  if (text === undefined) throw new Error(`Job "${name}": the payload is not JSON`)
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES)
    throw new Error(`Job "${name}": the payload exceeds ${MAX_PAYLOAD_BYTES} bytes`)
  const maxAttempts = options.maxAttempts ?? definition.maxAttempts
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new Error(`Job "${name}": maxAttempts must be a positive integer`)

  const client: Client = options.trx ?? db.connection()
  const now = new Date()
  const runAt =
    options.runAt instanceof DateTime
      ? options.runAt.toJSDate()
      : (options.runAt ?? new Date(now.getTime() + (options.delayMs ?? 0)))
  const publicId = newPublicId(now.getTime())
  await client.table('jobs').insert({
    public_id: publicId,
    name,
    payload: text,
    status: 'pending',
    priority: options.priority ?? 0,
    attempts: 0,
    max_attempts: maxAttempts,
    run_at: dbTime(runAt, client),
    created_at: dbTime(now, client),
    updated_at: dbTime(now, client),
  })
  return publicId
}

/** A job a worker holds the lease on. */
export interface ClaimedJob {
  id: number
  publicId: string
  name: string
  payload: string
  attempts: number
  maxAttempts: number
}

export interface ClaimOptions {
  limit: number
  leaseMs?: number
  now?: Date
  /** Job types this worker can run (default: every job defined in this process). */
  names?: string[]
}

/**
 * Takes up to `limit` due jobs for this worker, marking them running with a
 * lease. Due means pending or failed with run_at passed, or running with an
 * expired lease (its worker died) and attempts left.
 *
 * One UPDATE statement does the choosing and the marking. On PostgreSQL the
 * sub-select locks the rows it picks and skips rows another worker is taking
 * (FOR UPDATE SKIP LOCKED); on SQLite the statement holds the database's
 * single write lock. Either way no two workers get the same job.
 */
export async function claimJobs(workerId: string, options: ClaimOptions): Promise<ClaimedJob[]> {
  const names = options.names ?? definedJobNames()
  if (names.length === 0 || options.limit < 1) return []
  const client = db.connection()
  const now = options.now ?? new Date()
  const leaseUntil = new Date(now.getTime() + (options.leaseMs ?? DEFAULT_LEASE_MS))
  const nowValue = dbTime(now, client)
  const lock = usesPostgres(client) ? 'FOR UPDATE SKIP LOCKED' : ''
  const result = await client.rawQuery(
    `UPDATE jobs
        SET status = 'running',
            attempts = attempts + 1,
            locked_by = ?,
            locked_until = ?,
            last_error = CASE WHEN status = 'running'
              THEN 'Lease expired: worker ' || COALESCE(locked_by, 'unknown') || ' stopped before finishing'
              ELSE last_error END,
            updated_at = ?
      WHERE id IN (
        SELECT id FROM jobs
         WHERE name IN (${names.map(() => '?').join(', ')})
           AND ((status IN ('pending', 'failed') AND run_at <= ?)
             OR (status = 'running' AND locked_until < ? AND attempts < max_attempts))
         ORDER BY priority DESC, run_at, id
         LIMIT ?
         ${lock}
      )
      RETURNING id, public_id, name, payload, attempts, max_attempts, priority, run_at`,
    [workerId, dbTime(leaseUntil, client), nowValue, ...names, nowValue, nowValue, options.limit]
  )
  // RETURNING gives no order; hand the jobs out in the order they were chosen.
  const rows = rowsOf(result).toSorted(
    (a, b) =>
      Number(b.priority) - Number(a.priority) ||
      readTime(a.run_at)!.toMillis() - readTime(b.run_at)!.toMillis() ||
      Number(a.id) - Number(b.id)
  )
  return rows.map((row) => ({
    id: Number(row.id),
    publicId: row.public_id,
    name: row.name,
    payload: row.payload,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
  }))
}

/**
 * Jobs whose worker died on the last attempt: nobody will renew their lease
 * and no attempt is left, so they are dead rather than running forever.
 */
export async function buryAbandonedJobs(now = new Date()): Promise<number> {
  const client = db.connection()
  return client
    .from('jobs')
    .where('status', 'running')
    .where('locked_until', '<', dbTime(now, client))
    .whereRaw('attempts >= max_attempts')
    .update({
      status: 'dead',
      last_error: 'Lease expired on the last attempt: the worker stopped before finishing',
      locked_by: null,
      locked_until: null,
      finished_at: dbTime(now, client),
      updated_at: dbTime(now, client),
    })
    .then(Number)
}

/** Pushes the lease of this worker's running jobs forward while they run. */
export async function renewLeases(workerId: string, ids: number[], leaseMs = DEFAULT_LEASE_MS) {
  if (ids.length === 0) return 0
  const client = db.connection()
  const now = new Date()
  return client
    .from('jobs')
    .whereIn('id', ids)
    .where('locked_by', workerId)
    .where('status', 'running')
    .update({
      locked_until: dbTime(new Date(now.getTime() + leaseMs), client),
      updated_at: dbTime(now, client),
    })
    .then(Number)
}

/**
 * Gives jobs back to the queue when a worker stops before they finish. The
 * interrupted attempt is not counted: the job did not fail, its worker left.
 */
export async function releaseJobs(workerId: string, ids: number[]) {
  if (ids.length === 0) return 0
  const client = db.connection()
  const now = dbTime(new Date(), client)
  return client
    .from('jobs')
    .whereIn('id', ids)
    .where('locked_by', workerId)
    .where('status', 'running')
    .update({
      status: 'pending',
      attempts: db.raw('attempts - 1'),
      locked_by: null,
      locked_until: null,
      run_at: now,
      updated_at: now,
    })
    .then(Number)
}

/** About base × 2^(attempt − 1), capped at max, then between half and all of it. */
export function backoffDelay(backoff: Backoff, attempt: number, random = Math.random()): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exponential / 2 + (random * exponential) / 2)
}

const CREDENTIALS_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi
const SECRET_ASSIGNMENT =
  /\b(pass(?:word|wd)?|pwd|secret|token|api[_-]?key|authorization|private[_-]?key|totp)(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;]+)/gi
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g

/**
 * The error text kept on the job: name, message and the top of the stack,
 * with anything that looks like a credential blanked out, and cut short.
 */
export function describeError(error: unknown): string {
  let text: string
  if (error instanceof Error) {
    const stack = (error.stack ?? '').split('\n').slice(1, 6).join('\n')
    text = `${error.name}: ${error.message}${stack ? '\n' + stack : ''}`
  } else {
    text = String(error)
  }
  const scrubbed = text
    .replace(CREDENTIALS_IN_URL, '$1[redacted]@')
    .replace(BEARER, '$1 [redacted]')
    .replace(SECRET_ASSIGNMENT, '$1$2[redacted]')
  return scrubbed.length > MAX_ERROR_LENGTH
    ? scrubbed.slice(0, MAX_ERROR_LENGTH - 1) + '…'
    : scrubbed
}

export type JobOutcome = 'succeeded' | 'failed' | 'dead' | 'lost'

export interface ExecuteOptions {
  workerId: string
  signal?: AbortSignal
  /** The clock used for the retry time (tests move it forward). */
  now?: () => Date
}

/**
 * Runs one claimed job and records the outcome. The final UPDATE only
 * applies while this worker still holds the lease; if another worker took
 * the job over meanwhile the outcome is "lost" and nothing is written.
 */
export async function executeJob(job: ClaimedJob, options: ExecuteOptions): Promise<JobOutcome> {
  const clock = options.now ?? (() => new Date())
  const definition = jobDefinition(job.name)
  const jobLogger = logger.child({ job: job.publicId, jobName: job.name, attempt: job.attempts })
  let failure: unknown = null
  try {
    if (!definition) throw new Error(`No handler for job "${job.name}" in this worker`)
    const payload = JSON.parse(job.payload)
    await definition.handler(payload, {
      jobId: job.publicId,
      name: job.name,
      attempt: job.attempts,
      maxAttempts: job.maxAttempts,
      workerId: options.workerId,
      logger: jobLogger,
      signal: options.signal ?? new AbortController().signal,
    })
  } catch (error) {
    failure = error ?? new Error('Job failed without an error')
  }

  const client = db.connection()
  const now = clock()
  const owned = () =>
    client
      .from('jobs')
      .where('id', job.id)
      .where('locked_by', options.workerId)
      .where('status', 'running')
  let outcome: JobOutcome
  let updated: number
  if (failure === null) {
    outcome = 'succeeded'
    updated = Number(
      await owned().update({
        status: 'succeeded',
        locked_by: null,
        locked_until: null,
        finished_at: dbTime(now, client),
        updated_at: dbTime(now, client),
      })
    )
  } else {
    const lastError = describeError(failure)
    const exhausted = job.attempts >= job.maxAttempts
    outcome = exhausted ? 'dead' : 'failed'
    const delay = backoffDelay(definition?.backoff ?? DEFAULT_BACKOFF, job.attempts)
    updated = Number(
      await owned().update({
        status: outcome,
        last_error: lastError,
        locked_by: null,
        locked_until: null,
        updated_at: dbTime(now, client),
        ...(exhausted
          ? { finished_at: dbTime(now, client) }
          : { run_at: dbTime(new Date(now.getTime() + delay), client) }),
      })
    )
    const log = { err: lastError, attempts: job.attempts, maxAttempts: job.maxAttempts }
    if (exhausted) jobLogger.error(log, 'job dead after its last attempt')
    else jobLogger.warn({ ...log, retryInMs: delay }, 'job failed; will retry')
  }
  if (updated === 0) {
    jobLogger.warn('lease lost before the job finished; outcome discarded')
    return 'lost'
  }
  if (outcome === 'succeeded') jobLogger.debug('job succeeded')
  return outcome
}

/**
 * Claims and runs due jobs one after another in this process: what a worker
 * does, without the loop. Returns each job's outcome.
 */
export async function runDueJobs(options: {
  workerId: string
  limit?: number
  leaseMs?: number
  now?: Date
}): Promise<{ publicId: string; name: string; outcome: JobOutcome }[]> {
  const now = options.now ?? new Date()
  await buryAbandonedJobs(now)
  const claimed = await claimJobs(options.workerId, {
    limit: options.limit ?? 10,
    leaseMs: options.leaseMs,
    now,
  })
  const outcomes = []
  for (const job of claimed) {
    const outcome = await executeJob(job, {
      workerId: options.workerId,
      now: options.now ? () => now : undefined,
    })
    outcomes.push({ publicId: job.publicId, name: job.name, outcome })
  }
  return outcomes
}

/** Reads one job by its public id. */
export async function findJob(publicId: string): Promise<JobRecord | null> {
  const row = await db.from('jobs').where('public_id', publicId).first()
  return row ? toRecord(row) : null
}

/** Number of jobs in each status, every status present. */
export async function jobCounts(): Promise<Record<JobStatus, number>> {
  const rows = await db.from('jobs').select('status').count('* as total').groupBy('status')
  const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<
    JobStatus,
    number
  >
  for (const row of rows)
    if (row.status in counts) counts[row.status as JobStatus] = Number(row.total)
  return counts
}

export interface JobFilters {
  status?: JobStatus
  /** Part of the job name, or a whole public id. */
  search?: string
  page?: number
  perPage?: number
}

/** One page of jobs, newest first. */
export async function listJobs(filters: JobFilters) {
  const query = db.from('jobs').orderBy('id', 'desc')
  if (filters.status) query.where('status', filters.status)
  const search = filters.search?.trim()
  if (search) {
    const pattern = '%' + search.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%'
    query.where((where) => {
      where.whereRaw(`LOWER(name) LIKE ? ESCAPE '\\'`, [pattern])
      where.orWhere('public_id', search.toUpperCase())
    })
  }
  const paginator = await query.paginate(filters.page ?? 1, filters.perPage ?? 25)
  return { paginator, jobs: paginator.all().map(toRecord) }
}

/** The payload for display: indented, with anything secret-looking blanked out. */
export function displayPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(auditJson(JSON.parse(payload)) ?? 'null'), null, 2)
  } catch {
    return payload
  }
}

/** Prometheus figures for /metrics: queue depth by status and the wait of the oldest due job. */
export async function jobGauges(now = new Date()): Promise<Gauge[]> {
  const counts = await jobCounts()
  const client = db.connection()
  const oldest = await client
    .from('jobs')
    .where('status', 'pending')
    .where('run_at', '<=', dbTime(now, client))
    .min('run_at as oldest')
    .first()
  const oldestRunAt = readTime(oldest?.oldest)
  const age = oldestRunAt ? Math.max(0, (now.getTime() - oldestRunAt.toMillis()) / 1000) : 0
  return [
    {
      name: 'quad_jobs',
      help: 'Jobs in the durable queue by status.',
      type: 'gauge',
      samples: JOB_STATUSES.map((status) => ({ labels: { status }, value: counts[status] })),
    },
    {
      name: 'quad_jobs_oldest_pending_age_seconds',
      help: 'How long the oldest due pending job has waited, in seconds.',
      type: 'gauge',
      samples: [{ value: Math.round(age) }],
    },
  ]
}

export interface Retention {
  succeededDays: number
  deadDays: number
  scheduleRunDays: number
}

export const DEFAULT_RETENTION: Retention = { succeededDays: 7, deadDays: 30, scheduleRunDays: 7 }

/** Deletes finished jobs and schedule rows older than the retention period. */
export async function pruneFinishedJobs(now = new Date(), retention = DEFAULT_RETENTION) {
  const client = db.connection()
  const before = (days: number) => dbTime(new Date(now.getTime() - days * 86_400_000), client)
  const succeeded = await client
    .from('jobs')
    .where('status', 'succeeded')
    .where('finished_at', '<', before(retention.succeededDays))
    .delete()
  const dead = await client
    .from('jobs')
    .where('status', 'dead')
    .where('finished_at', '<', before(retention.deadDays))
    .delete()
  const scheduleRuns = await client
    .from('schedule_runs')
    .where('started_at', '<', before(retention.scheduleRunDays))
    .delete()
  return { succeeded: Number(succeeded), dead: Number(dead), scheduleRuns: Number(scheduleRuns) }
}
