import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { GrantAdminRole } from '#identity/actions/grant_admin_role'
import { RevokeAdminGrant } from '#identity/actions/revoke_admin_grant'
import { withoutBlankFilters } from '#identity/validators/people'
import {
  grantParamsValidator,
  newGrantValidator,
  publicIdParamsValidator,
} from '#identity/validators/admins'

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** Adding and removing the grants of one console account. */
export default class AdminGrantsController {
  /** Gives the account a role, for the whole school or for one unit's subtree. */
  async store(ctx: HttpContext) {
    const { request, response, session, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const [invalidParams, params] = await publicIdParamsValidator.tryValidate(ctx.params)
    if (invalidParams) return notFound(ctx)
    const back = `/console/admins/${params.publicId}`
    const [error, data] = await newGrantValidator.tryValidate(
      withoutBlankFilters(request.only(['role', 'unit'])),
      { messagesProvider: i18n.createMessagesProvider() }
    )
    if (error) {
      session.flashValidationErrors(error, false)
      session.flashExcept(NEVER_FLASHED)
      return response.redirect(back)
    }
    const result = await new GrantAdminRole().handle(
      { account: params.publicId, role: data.role, unit: data.unit ?? null },
      actorFrom(ctx)
    )
    if (!result.ok) {
      if (result.error === 'not_found') return notFound(ctx)
      const message = i18n.t(`admins.errors.${result.error}`)
      session.flashExcept(NEVER_FLASHED)
      session.flash('inputErrorsBag', {
        [result.error === 'role_unknown' ? 'role' : 'unit']: [message],
      })
      session.flash('error', message)
      return response.redirect(back)
    }
    session.flash('notice', i18n.t('admins.grants.added'))
    return response.redirect(back)
  }

  /** Takes one grant away; the last whole-school super admin keeps theirs. */
  async destroy(ctx: HttpContext) {
    const { response, session, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const [invalidParams, params] = await grantParamsValidator.tryValidate(ctx.params)
    if (invalidParams) return notFound(ctx)
    const result = await new RevokeAdminGrant().handle(
      { account: params.publicId, grant: params.grantId },
      actorFrom(ctx)
    )
    if (!result.ok) {
      if (result.error === 'not_found') return notFound(ctx)
      session.flash('error', i18n.t(`admins.errors.${result.error}`))
    } else session.flash('notice', i18n.t('admins.grants.removed'))
    return response.redirect(`/console/admins/${params.publicId}`)
  }
}
