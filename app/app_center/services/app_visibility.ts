import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import db from '@adonisjs/lucid/services/db'
import Audience from '#identity/models/audience'
import { resolveAudience } from '#identity/services/audience_resolver'
import CampusApp from '#app_center/models/campus_app'
import { APP_CATEGORIES } from '#app_center/services/app_rules'

/**
 * Who may see and use an app: it must be enabled, and the person must be in
 * its audience (an app without one is for everyone). The audience is read
 * at the moment of the decision, so a person who leaves a class or changes
 * status loses the app at once.
 */

/**
 * Which of the given audiences contain the person: one indexed query per
 * distinct audience, however many apps share it.
 */
async function audiencesContaining(
  audienceIds: number[],
  personId: number,
  client: QueryClientContract
): Promise<Set<number>> {
  const distinct = [...new Set(audienceIds)]
  if (distinct.length === 0) return new Set()
  const audiences = await Audience.query({ client }).whereIn('id', distinct)
  const inside = new Set<number>()
  for (const audience of audiences) {
    if (await resolveAudience(audience, client).contains(personId)) inside.add(audience.id)
  }
  return inside
}

/** Whether the person (internal id) may use the app right now. */
export async function personMayUseApp(
  app: Pick<CampusApp, 'enabled' | 'audienceId'>,
  personId: number,
  client: QueryClientContract = db.connection()
): Promise<boolean> {
  if (!app.enabled) return false
  if (app.audienceId === null) return true
  const inside = await audiencesContaining([app.audienceId], personId, client)
  return inside.has(app.audienceId)
}

/** Where launching an app from the service hall leads, or null if it has nowhere to go. */
export function launchDestination(app: CampusApp): string | null {
  if (app.launchUrl) return app.launchUrl
  if (app.kind === 'cas' && app.casServiceMatch === 'exact') return app.casService
  return null
}

/**
 * The enabled apps a person may see that have somewhere to launch, in the
 * service hall's order: category, then the console's sort order, then name.
 */
export async function appsVisibleTo(personId: number): Promise<CampusApp[]> {
  const apps = await CampusApp.query()
    .where('enabled', true)
    .orderBy('sort_order')
    .orderBy('name_zh')
    .orderBy('id')
  const inside = await audiencesContaining(
    apps.flatMap((app) => (app.audienceId === null ? [] : [app.audienceId])),
    personId,
    db.connection()
  )
  const categoryOrder = (app: CampusApp) => APP_CATEGORIES.indexOf(app.category)
  return apps
    .filter((app) => app.audienceId === null || inside.has(app.audienceId))
    .filter((app) => launchDestination(app) !== null)
    .sort((a, b) => categoryOrder(a) - categoryOrder(b))
}
