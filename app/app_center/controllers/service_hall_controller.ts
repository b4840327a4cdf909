import type { HttpContext } from '@adonisjs/core/http'
import type CampusApp from '#app_center/models/campus_app'
import { APP_CATEGORIES } from '#app_center/services/app_rules'
import { appsVisibleTo } from '#app_center/services/app_visibility'
import { LaunchApp } from '#app_center/actions/launch_app'
import { appParamsValidator } from '#app_center/validators/app'

/** A user code as a person may type it: letters, digits and hyphens. */
const USER_CODE = /^[A-Za-z0-9-]{1,16}$/

/** The portal's service hall (服务大厅): the apps a person may use, and their launches. */
export default class ServiceHallController {
  /** The apps visible to the signed-in person, by category; the partner zone apart. */
  async index({ portal, view }: HttpContext) {
    const apps = await appsVisibleTo(portal!.person.id)
    const sections = (list: CampusApp[]) =>
      APP_CATEGORIES.map((category) => ({
        category,
        apps: list.filter((app) => app.category === category),
      })).filter((section) => section.apps.length > 0)
    return view.render('pages/app_center/hall', {
      sections: sections(apps.filter((app) => !app.partnerZone)),
      partners: apps.filter((app) => app.partnerZone),
      total: apps.length,
    })
  }

  /** Counts the launch and sends the person on to the app. */
  async launch(ctx: HttpContext) {
    const { portal, response, session, i18n, view } = ctx
    const [error, params] = await appParamsValidator.tryValidate(ctx.params)
    const result = error
      ? ({ ok: false, error: 'not_found' } as const)
      : await new LaunchApp().handle(params.publicId, portal!.person.id)
    if (!result.ok) {
      if (result.error === 'not_found') {
        response.status(404)
        return view.render('pages/errors/status', { status: 404 })
      }
      session.flash('error', i18n.t('apps.hall.not_allowed'))
      return response.redirect('/portal/apps')
    }
    return response.redirect(result.value.destination)
  }

  /** Entering a device's code: on to the provider's code page, signed in. */
  async device({ params, response }: HttpContext) {
    const code = typeof params.code === 'string' && USER_CODE.test(params.code) ? params.code : null
    return response.redirect(
      code ? `/oidc/device?user_code=${encodeURIComponent(code)}` : '/oidc/device'
    )
  }
}
