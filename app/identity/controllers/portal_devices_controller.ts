import type { HttpContext } from '@adonisjs/core/http'
import { EndPortalSessions } from '#identity/actions/portal_end_sessions'
import { clearPortalCookie, portalActorFrom } from '#identity/http/portal_session'
import { activePortalSessions } from '#identity/services/portal_sessions'
import { portalSessionParamsValidator } from '#identity/validators/portal'

/** "Signed-in devices": every running portal session of the person, and remote sign-out. */
export default class PortalDevicesController {
  async index(ctx: HttpContext) {
    const { person, session } = ctx.portal!
    const sessions = await activePortalSessions(person.id)
    return ctx.view.render('pages/portal/devices', {
      devices: sessions.map((each) => ({ session: each, current: each.id === session.id })),
      others: sessions.filter((each) => each.id !== session.id).length,
    })
  }

  async signOut(ctx: HttpContext) {
    const { person, session } = ctx.portal!
    const [error, input] = await portalSessionParamsValidator.tryValidate(ctx.params)
    if (error) return ctx.response.redirect('/portal/me/devices')
    const current = input.publicId === session.publicId
    const result = await new EndPortalSessions().handle(
      person,
      { kind: current ? 'current' : 'one', sessionPublicId: input.publicId },
      portalActorFrom(ctx, person)
    )
    if (current) {
      clearPortalCookie(ctx)
      ctx.session.flash('notice', ctx.i18n.t('portal.login.signed_out'))
      return ctx.response.redirect('/portal/login')
    }
    ctx.session.flash(
      result.ok ? 'notice' : 'error',
      ctx.i18n.t(result.ok ? 'portal.devices.signed_out_one' : 'portal.devices.not_found')
    )
    return ctx.response.redirect('/portal/me/devices')
  }

  async signOutOthers(ctx: HttpContext) {
    const { person, session } = ctx.portal!
    const result = await new EndPortalSessions().handle(
      person,
      { kind: 'all_but', keepSessionId: session.id },
      portalActorFrom(ctx, person)
    )
    const ended = result.ok ? result.value.ended : 0
    ctx.session.flash('notice', ctx.i18n.t('portal.devices.signed_out_others', { count: ended }))
    return ctx.response.redirect('/portal/me/devices')
  }
}
