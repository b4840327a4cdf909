import type { HttpContext } from '@adonisjs/core/http'
import vine from '@vinejs/vine'
import { actorFrom } from '#core/http/actor'
import { API_SCOPES } from '#identity/api/api_client'
import type { IssuedClient } from '#identity/api/api_clients'
import { createApiClient, disableApiClient, listApiClients } from '#identity/api/api_clients'

const newClientValidator = vine.compile(
  vine.object({
    name: vine.string().trim().minLength(1).maxLength(120),
    scopes: vine.array(vine.enum(API_SCOPES)).minLength(1),
  })
)

const clientParamsValidator = vine.compile(
  vine.object({ clientId: vine.string().regex(/^qc_[0-9a-z]{26}$/) })
)

async function renderIndex(ctx: HttpContext, issued: IssuedClient | null = null) {
  return ctx.view.render('pages/identity/api_clients/index', {
    clients: await listApiClients(),
    scopes: API_SCOPES,
    issued,
  })
}

/** Console screens for the integration API's clients. */
export default class ApiClientsController {
  /** The clients, and a form to add one. */
  async index(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'api_clients.manage')
    return renderIndex(ctx)
  }

  /**
   * Creates a client and shows its secret in this response only: it is
   * never flashed into the session, and Quad keeps just its hash.
   */
  async store(ctx: HttpContext) {
    const { request, response, session, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'api_clients.manage')
    const [error, data] = await newClientValidator.tryValidate(
      { name: request.input('name'), scopes: [request.input('scopes') ?? []].flat() },
      { messagesProvider: i18n.createMessagesProvider() }
    )
    if (error) {
      session.flashValidationErrors(error)
      return response.redirect('/console/api-clients')
    }
    const result = await createApiClient(
      { name: data.name, scopes: data.scopes, createdBy: ctx.auth.user?.id ?? null },
      actorFrom(ctx)
    )
    if (!result.ok) {
      session.flash('error', i18n.t(`api_clients.errors.${result.error}`))
      return response.redirect('/console/api-clients')
    }
    response.header('Cache-Control', 'no-store')
    return renderIndex(ctx, result.value)
  }

  /** Refuses the client's further requests. */
  async disable(ctx: HttpContext) {
    const { response, session, bouncer, i18n, params } = ctx
    await bouncer.authorize('permit', 'api_clients.manage')
    const { clientId } = await clientParamsValidator.validate(params)
    const result = await disableApiClient(clientId, actorFrom(ctx))
    if (!result.ok) {
      if (result.error === 'not_found') return response.notFound()
      session.flash('error', i18n.t(`api_clients.errors.${result.error}`))
    } else session.flash('notice', i18n.t('api_clients.disabled_notice', { clientId }))
    return response.redirect('/console/api-clients')
  }
}
