import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { RevealPersonPii } from '#identity/actions/reveal_person_pii'
import { revealValidator } from '#identity/validators/people'
import { personFromParams, personPageData } from '#identity/controllers/people_controller'
import PersonPolicy from '#identity/policies/person_policy'

export default class PersonPiiController {
  /**
   * Shows one phone or ID number in clear, once: the answer is the person
   * page itself, never a redirect, so the value is not kept in the session.
   */
  async reveal(ctx: HttpContext) {
    const { request, response, bouncer, view, i18n } = ctx
    await bouncer.authorize('permit', 'people.reveal_pii')
    const person = await personFromParams(ctx.params)
    if (!person) {
      response.status(404)
      return view.render('pages/errors/status', { status: 404 })
    }
    await bouncer.with(PersonPolicy).authorize('revealPii', person)
    const { field } = await revealValidator.validate(request.only(['field']))
    const result = await new RevealPersonPii().handle(person.publicId, field, actorFrom(ctx))
    if (!result.ok) {
      ctx.session.flash('error', i18n.t(`identity.people.errors.${result.error}`))
      return response.redirect(`/console/people/${person.publicId}`)
    }
    response.header('Cache-Control', 'no-store')
    return view.render('pages/identity/people/show', {
      ...(await personPageData(ctx, person)),
      revealed: { field, value: result.value.value },
    })
  }
}
