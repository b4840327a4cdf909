import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import logger from '@adonisjs/core/services/logger'
import type { Logger } from '@adonisjs/core/logger'
import {
  buryAbandonedJobs,
  claimJobs,
  DEFAULT_LEASE_MS,
  describeError,
  executeJob,
  releaseJobs,
  renewLeases,
  type ClaimedJob,
} from '#appliance/services/jobs'
import { definedJobNames } from '#appliance/services/jobs_registry'
import { startSchedules, type RunningSchedules } from '#appliance/services/scheduler'

/** host:pid:random — unique across boxes and restarts, and says where a job ran. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
}

export interface WorkerOptions {
  id?: string
  /** Jobs run at the same time. */
  concurrency: number
  /** Wait between looks at an empty queue. */
  pollIntervalMs: number
  /** How long a claimed job stays this worker's without a renewal. */
  leaseMs?: number
  /** How long stop() lets running jobs finish before giving them back. */
  graceMs: number
  /** Run the cron schedules (default true). */
  schedules?: boolean
  /** Run jobs from the queue (default true). */
  jobs?: boolean
  /** Zone for schedules that name none: the school's. */
  defaultTimeZone: string
}

interface ActiveJob {
  job: ClaimedJob
  done: Promise<void>
  controller: AbortController
}

function delay(ms: number) {
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  return { promise, cancel: () => clearTimeout(timer) }
}

/**
 * One worker process's engine: the cron schedules and a loop that claims due
 * jobs up to the concurrency limit, renews their leases while they run, and
 * on stop lets them finish (or gives them back to the queue).
 */
export class Worker {
  readonly id: string
  readonly leaseMs: number
  #active = new Map<number, ActiveJob>()
  #stopping = false
  #stopped: Promise<void> | null = null
  #loop: Promise<void> | null = null
  #heartbeat: NodeJS.Timeout | null = null
  #schedules: RunningSchedules | null = null
  #wake: (() => void) | null = null
  #lastBurial = 0
  #log: Logger

  constructor(private options: WorkerOptions) {
    this.id = options.id ?? newWorkerId()
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.#log = logger.child({ worker: this.id })
  }

  get activeCount() {
    return this.#active.size
  }

  /** Starts the schedules and the job loop; returns once both are running. */
  async start() {
    const jobNames = this.options.jobs === false ? [] : definedJobNames()
    if (this.options.schedules !== false) {
      this.#schedules = startSchedules({
        workerId: this.id,
        defaultTimeZone: this.options.defaultTimeZone,
      })
    }
    if (this.options.jobs !== false) {
      // Renew often enough that two missed renewals still leave the lease valid.
      this.#heartbeat = setInterval(() => this.#renew(), Math.max(100, this.leaseMs / 3))
      this.#loop = this.#run()
    }
    this.#log.info(
      {
        concurrency: this.options.concurrency,
        pollIntervalMs: this.options.pollIntervalMs,
        leaseMs: this.leaseMs,
        jobs: jobNames,
        schedules: this.#schedules?.names ?? [],
      },
      'worker started'
    )
  }

  async #run() {
    while (!this.#stopping) {
      let saturated = false
      try {
        const now = Date.now()
        if (now - this.#lastBurial >= this.leaseMs / 2) {
          this.#lastBurial = now
          const buried = await buryAbandonedJobs()
          if (buried > 0) this.#log.warn({ count: buried }, 'jobs dead after their worker stopped')
        }
        const free = this.options.concurrency - this.#active.size
        if (free > 0 && !this.#stopping) {
          const claimed = await claimJobs(this.id, { limit: free, leaseMs: this.leaseMs })
          for (const job of claimed) this.#execute(job)
          // Every free slot filled: there may be more waiting, so look again
          // as soon as a slot frees up rather than after the poll interval.
          saturated = claimed.length === free
        } else {
          saturated = true
        }
      } catch (error) {
        this.#log.error({ err: describeError(error) }, 'could not claim jobs')
      }
      if (this.#stopping) break
      if (saturated && this.#active.size < this.options.concurrency) continue
      await this.#sleep(this.options.pollIntervalMs, saturated)
    }
  }

  /** Sleeps for the poll interval; a finished job wakes a saturated loop early. */
  #sleep(ms: number, wakeOnFinish: boolean) {
    const timer = delay(ms)
    return Promise.race([
      timer.promise,
      new Promise<void>((resolve) => {
        this.#wake = () => {
          if (wakeOnFinish || this.#stopping) resolve()
        }
      }),
    ]).finally(() => {
      timer.cancel()
      this.#wake = null
    })
  }

  #execute(job: ClaimedJob) {
    const controller = new AbortController()
    const started = Date.now()
    const done = executeJob(job, { workerId: this.id, signal: controller.signal })
      .then((outcome) => {
        this.#log.info(
          {
            job: job.publicId,
            jobName: job.name,
            attempt: job.attempts,
            outcome,
            ms: Date.now() - started,
          },
          'job finished'
        )
      })
      .catch((error) => {
        // The outcome could not be written (database gone?): the lease runs
        // out and another worker retries the job.
        this.#log.error(
          { job: job.publicId, err: describeError(error) },
          'could not record a job outcome'
        )
      })
      .finally(() => {
        this.#active.delete(job.id)
        this.#wake?.()
      })
    this.#active.set(job.id, { job, done, controller })
  }

  async #renew() {
    const ids = [...this.#active.keys()]
    if (ids.length === 0) return
    try {
      await renewLeases(this.id, ids, this.leaseMs)
    } catch (error) {
      this.#log.error({ err: describeError(error) }, 'could not renew job leases')
    }
  }

  /**
   * Stops taking work, lets running jobs and ticks finish for up to the grace
   * period, then gives any job still running back to the queue.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown()
    return this.#stopped
  }

  async #shutdown() {
    this.#stopping = true
    this.#wake?.()
    this.#log.info({ running: this.#active.size }, 'worker stopping')
    const grace = delay(this.options.graceMs)
    await Promise.race([Promise.all([this.#schedules?.stop(), this.#loop]), grace.promise])
    const running = [...this.#active.values()]
    const finished = await Promise.race([
      Promise.allSettled(running.map((active) => active.done)).then(() => true),
      grace.promise.then(() => false),
    ])
    grace.cancel()
    if (!finished) {
      const left = [...this.#active.values()]
      for (const active of left) active.controller.abort()
      const released = await releaseJobs(
        this.id,
        left.map((active) => active.job.id)
      ).catch((error) => {
        this.#log.error({ err: describeError(error) }, 'could not release job leases')
        return 0
      })
      this.#log.warn({ released }, 'jobs given back to the queue after the grace period')
    }
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    this.#log.info('worker stopped')
  }
}
