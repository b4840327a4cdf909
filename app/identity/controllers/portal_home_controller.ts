import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import { portalTilesFor } from '#identity/services/portal_home'
import { schoolTimeZone } from '#appliance/services/school_settings'

/** Morning, afternoon or evening in the school's time zone. */
function partOfDay(now = DateTime.utc()): 'morning' | 'afternoon' | 'evening' {
  const hour = now.setZone(schoolTimeZone()).hour
  if (hour >= 5 && hour < 12) return 'morning'
  if (hour >= 12 && hour < 18) return 'afternoon'
  return 'evening'
}

/** The portal's home: a greeting and the tiles modules registered. */
export default class PortalHomeController {
  async index(ctx: HttpContext) {
    const { person } = ctx.portal!
    return ctx.view.render('pages/portal/home', {
      greeting: partOfDay(),
      tiles: await portalTilesFor(person),
    })
  }
}
