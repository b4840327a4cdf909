import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** Queue counts by status, and optionally the dead jobs that need attention. */
export default class JobsList extends BaseCommand {
  static commandName = 'jobs:list'
  static description = 'Show how many jobs are in each status; --dead lists the dead jobs'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'List dead jobs (out of attempts)' })
  declare dead: boolean

  @flags.number({ description: 'How many dead jobs to list, newest first', default: 50 })
  declare limit: number

  async run() {
    const { jobCounts, JOB_STATUSES, listJobs } = await import('#appliance/services/jobs')
    const counts = await jobCounts()
    const table = this.ui.table()
    table.head(['Status', 'Jobs'])
    for (const status of JOB_STATUSES) table.row([status, String(counts[status])])
    table.render()

    if (!this.dead) return
    const { jobs } = await listJobs({ status: 'dead', perPage: Math.max(1, this.limit) })
    if (jobs.length === 0) {
      this.logger.info('No dead jobs')
      return
    }
    const dead = this.ui.table()
    dead.head(['ID', 'Job', 'Attempts', 'Finished (UTC)', 'Last error'])
    for (const job of jobs) {
      dead.row([
        job.publicId,
        job.name,
        `${job.attempts}/${job.maxAttempts}`,
        job.finishedAt?.toFormat('yyyy-MM-dd HH:mm:ss') ?? '',
        (job.lastError ?? '').split('\n')[0].slice(0, 100),
      ])
    }
    dead.render()
  }
}
