import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { withoutBlankFilters } from '#identity/validators/people'
import { exportPeopleValidator } from '#identity/validators/imports'
import { ExportPeople } from '#identity/actions/export_people'
import { sendFile } from '#identity/controllers/imports_controller'

export default class ExportsController {
  /**
   * The people of the list's current filters as a spreadsheet. Phone and ID
   * numbers are masked unless the admin may reveal them and ticked the box.
   */
  async store(ctx: HttpContext) {
    const { request, response, bouncer, i18n, session } = ctx
    await bouncer.authorize('permit', 'people.read')
    const [error, input] = await exportPeopleValidator.tryValidate(
      withoutBlankFilters(request.all())
    )
    if (error) {
      session.flash('error', i18n.t('imports.export_invalid'))
      return response.redirect('/console/people')
    }
    if (input.revealPii) await bouncer.authorize('permit', 'people.reveal_pii')
    const { format, revealPii, type, ...filters } = input
    const { bytes } = await new ExportPeople().handle(
      {
        filters: { ...filters, identityType: type },
        format,
        locale: i18n.locale,
        revealPii: revealPii === true,
      },
      actorFrom(ctx)
    )
    return sendFile(response, bytes, format, 'people')
  }
}
