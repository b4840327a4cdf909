import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { ChangePersonStatus } from '#identity/actions/change_person_status'
import { statusChangeValidator } from '#identity/validators/people'
import { personFromParams } from '#identity/controllers/people_controller'
import PersonPolicy from '#identity/policies/person_policy'

export default class PersonStatusController {
  /** Changes a person's status; the reason is required and kept in the history. */
  async store(ctx: HttpContext) {
    const { request, response, session, bouncer, i18n, params } = ctx
    await bouncer.authorize('permit', 'people.write')
    const person = await personFromParams(params)
    if (!person) return response.notFound()
    await bouncer.with(PersonPolicy).authorize('edit', person)
    const publicId = person.publicId
    const back = `/console/people/${publicId}`
    const [error, data] = await statusChangeValidator.tryValidate(
      request.only(['status', 'reason']),
      {
        messagesProvider: i18n.createMessagesProvider(),
      }
    )
    if (error) {
      session.flashValidationErrors(error)
      return response.redirect(back)
    }
    const result = await new ChangePersonStatus().handle({ publicId, ...data }, actorFrom(ctx))
    if (!result.ok) {
      if (result.error === 'not_found') return response.notFound()
      session.flashExcept(NEVER_FLASHED)
      session.flash('inputErrorsBag', {
        reason: [i18n.t(`identity.people.errors.${result.error}`)],
      })
      session.flash('error', i18n.t(`identity.people.errors.${result.error}`))
      return response.redirect(back)
    }
    session.flash('notice', i18n.t('identity.people.status_changed'))
    return response.redirect(back)
  }
}
