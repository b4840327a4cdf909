import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import { SetPortalPassword } from '#identity/actions/portal_set_password'
import { EndPortalSessions } from '#identity/actions/portal_end_sessions'
import { personParamsValidator } from '#identity/validators/people'
import { activePortalSessions, personMaySignIn } from '#identity/services/portal_sessions'
import { portalAccountFormValidator } from '#identity/validators/portal'
import { managePortalAccount } from '#identity/policies/portal_account_policy'

/**
 * The person in the URL, once the account may manage their portal account:
 * null (404) for no such person, a 403 for a person outside its reach.
 */
async function personFrom(ctx: HttpContext) {
  await ctx.bouncer.authorize('permit', 'portal_accounts.manage')
  const [error, input] = await personParamsValidator.tryValidate(ctx.params)
  if (error) return null
  const person = await Person.query().where('public_id', input.publicId).preload('orgUnit').first()
  if (person) await ctx.bouncer.authorize(managePortalAccount, person)
  return person
}

async function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** What the account page shows about a person's portal sign-in. */
async function accountPage(person: Person) {
  const credential = await PortalCredential.findBy('person_id', person.id)
  const sessions = await activePortalSessions(person.id)
  return {
    person,
    credential,
    maySignIn: personMaySignIn(person),
    activeSessions: sessions.length,
  }
}

/**
 * The console's view of a person's portal account: whether they can sign
 * in, and the admin's one-time password for a first sign-in or a forgotten
 * password.
 */
export default class PortalAccountsController {
  async show(ctx: HttpContext) {
    const person = await personFrom(ctx)
    if (!person) return notFound(ctx)
    return ctx.view.render('pages/portal/admin/account', await accountPage(person))
  }

  /**
   * Sets a new one-time password and shows it once: the answer is the page
   * itself, never a redirect, so the password is not kept in the session.
   */
  async setPassword(ctx: HttpContext) {
    const person = await personFrom(ctx)
    if (!person) return notFound(ctx)
    const { clearSecondFactor } = await ctx.request.validateUsing(portalAccountFormValidator)
    const result = await new SetPortalPassword().handle(
      person.publicId,
      { clearSecondFactor: clearSecondFactor === true },
      actorFrom(ctx)
    )
    if (!result.ok) return notFound(ctx)
    ctx.response.header('Cache-Control', 'no-store')
    return ctx.view.render('pages/portal/admin/account', {
      ...(await accountPage(person)),
      issued: { password: result.value.password, first: result.value.first },
    })
  }

  /** Ends every portal session of the person (a lost phone). */
  async signOutAll(ctx: HttpContext) {
    const person = await personFrom(ctx)
    if (!person) return notFound(ctx)
    const result = await new EndPortalSessions().handle(
      person,
      { kind: 'all_but', keepSessionId: null },
      actorFrom(ctx)
    )
    ctx.session.flash(
      'notice',
      ctx.i18n.t('portal.admin.signed_out_all', { count: result.ok ? result.value.ended : 0 })
    )
    return ctx.response.redirect(`/console/people/${person.publicId}/portal-account`)
  }
}
