import { userInfo } from 'node:os'
import { BaseCommand, args } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** Sends a dead or failed job back to the queue; audited like the console's button. */
export default class JobsRetry extends BaseCommand {
  static commandName = 'jobs:retry'
  static description = 'Queue a dead or failed job again with a fresh set of attempts'
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'The job ID (as shown by jobs:list and the console)' })
  declare id: string

  async run() {
    const { RerunJob } = await import('#appliance/actions/rerun_job')
    const actor = { type: 'system' as const, name: `ace:${userInfo().username}` }
    const result = await new RerunJob().handle(this.id.trim().toUpperCase(), actor)
    if (!result.ok) {
      this.logger.error(
        result.error === 'not_found'
          ? `No job with ID ${this.id}`
          : `Job ${this.id} is neither dead nor failed; nothing to re-run`
      )
      this.exitCode = 1
      return
    }
    this.logger.success(`Job ${result.value.publicId} (${result.value.name}) is queued again`)
  }
}
