import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * The worker process: cron schedules and the durable job queue. Run as many
 * as you like, on as many boxes as share the database; database leases make
 * each job and each scheduled tick run once.
 */
export default class WorkerRun extends BaseCommand {
  static commandName = 'worker:run'
  static description = 'Run the cron schedules and the job queue until stopped (SIGTERM/SIGINT)'
  static options: CommandOptions = { startApp: true, staysAlive: true }

  @flags.number({
    description: 'Jobs run at the same time (default: QUAD_WORKER_CONCURRENCY or 4)',
  })
  declare concurrency?: number

  @flags.number({
    flagName: 'poll-interval',
    description: 'Milliseconds between looks at an empty queue',
    default: 1000,
  })
  declare pollInterval: number

  @flags.number({
    description:
      'Seconds a job stays with this worker without a renewal before another may take it',
    default: 60,
  })
  declare lease: number

  @flags.number({
    description: 'Seconds running jobs get to finish on shutdown before they go back to the queue',
    default: 30,
  })
  declare grace: number

  @flags.boolean({
    description: 'Fire the cron schedules',
    default: true,
    showNegatedVariantInHelp: true,
  })
  declare schedules: boolean

  @flags.boolean({
    description: 'Run jobs from the queue',
    default: true,
    showNegatedVariantInHelp: true,
  })
  declare jobs: boolean

  async run() {
    const { default: env } = await import('#start/env')
    const { loadJobDefinitions } = await import('#appliance/services/jobs_catalog')
    const { Worker } = await import('#appliance/services/worker')
    const { currentSchool, schoolTimeZone } = await import('#appliance/services/school_settings')

    const concurrency = this.concurrency ?? env.get('QUAD_WORKER_CONCURRENCY', 4)
    const problems = [
      [Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 256, '--concurrency'],
      [this.pollInterval >= 10, '--poll-interval'],
      [this.lease >= 1, '--lease'],
      [this.grace >= 0, '--grace'],
    ].filter(([valid]) => !valid)
    if (problems.length > 0) {
      this.logger.error(`Invalid value for ${problems.map(([, flag]) => flag).join(', ')}`)
      this.exitCode = 1
      return this.terminate()
    }

    await loadJobDefinitions()
    // Schedules without their own zone run in the school's time zone.
    await currentSchool().catch(() => null)
    const worker = new Worker({
      concurrency,
      pollIntervalMs: this.pollInterval,
      leaseMs: this.lease * 1000,
      graceMs: this.grace * 1000,
      schedules: this.schedules,
      jobs: this.jobs,
      defaultTimeZone: schoolTimeZone(),
    })
    // SIGTERM (and SIGINT under pm2) already end the app from bin/console.ts;
    // the worker finishes its jobs before the database connection closes.
    this.app.terminating(() => worker.stop())
    if (!this.app.managedByPm2) this.app.listenOnce('SIGINT', () => this.terminate())
    await worker.start()
  }
}
