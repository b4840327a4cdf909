import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { withoutBlankFilters } from '#identity/validators/people'
import { exportPeopleValidator, formatParamsValidator } from '#identity/validators/imports'
import { ExportPeople } from '#identity/actions/export_people'
import { ExportOrgUnits } from '#identity/actions/export_org_units'
import { sendFile } from '#identity/controllers/imports_controller'
import { scopeFor } from '#identity/services/admin_access'
import { intersectScopes } from '#identity/services/org_scope'

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
    // Only the people the account may read; with numbers in clear, only
    // those whose numbers it may also reveal.
    const user = ctx.auth.getUserOrFail()
    const readable = await scopeFor(user, 'people.read')
    const scope = revealPii
      ? intersectScopes(readable, await scopeFor(user, 'people.reveal_pii'))
      : readable
    const { bytes } = await new ExportPeople().handle(
      {
        filters: { ...filters, identityType: type, scope },
        format,
        locale: i18n.locale,
        revealPii: revealPii === true,
      },
      actorFrom(ctx)
    )
    return sendFile(response, bytes, format, 'people')
  }

  /** The organization tree as a spreadsheet in the columns of the org-unit import. */
  async orgUnits(ctx: HttpContext) {
    const { request, response, bouncer, i18n, session } = ctx
    await bouncer.authorize('permit', 'people.read')
    const [error, input] = await formatParamsValidator.tryValidate(request.only(['format']))
    if (error) {
      session.flash('error', i18n.t('imports.export_invalid'))
      return response.redirect('/console/org')
    }
    const scope = await scopeFor(ctx.auth.getUserOrFail(), 'people.read')
    const { bytes } = await new ExportOrgUnits().handle(
      { format: input.format, locale: i18n.locale, scope },
      actorFrom(ctx)
    )
    return sendFile(response, bytes, input.format, 'org_units')
  }
}
