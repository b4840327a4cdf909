import { DateTime } from 'luxon'
import { fail, ok, type Result } from '#core/services/result'
import CampusApp from '#app_center/models/campus_app'
import AppLaunch from '#app_center/models/app_launch'
import { launchDestination, personMayUseApp } from '#app_center/services/app_visibility'

export type LaunchAppError = 'not_found' | 'not_allowed'

/**
 * A person opens an app from the service hall: checks that they may use it,
 * counts the launch and returns where to send them. An app that signs people
 * in through Quad starts its own sign-in there, which the person's portal
 * session completes without a password.
 */
export class LaunchApp {
  async handle(
    appPublicId: string,
    personId: number,
    now = DateTime.utc()
  ): Promise<Result<{ app: CampusApp; destination: string }, LaunchAppError>> {
    const app = await CampusApp.findBy('public_id', appPublicId.toUpperCase())
    const destination = app ? launchDestination(app) : null
    if (!app || !destination) return fail('not_found')
    if (!(await personMayUseApp(app, personId))) return fail('not_allowed')
    await AppLaunch.create({ appId: app.id, personId, launchedAt: now })
    return ok({ app, destination })
  }
}
