import type { HttpContext } from '@adonisjs/core/http'
import { errors, type Interaction } from 'oidc-provider'
import { portalActorFrom } from '#identity/http/portal_session'
import CampusApp from '#app_center/models/campus_app'
import { oidcProvider } from '#app_center/services/oidc_provider'
import { grantInteraction, recordConsent, requestedScopes } from '#app_center/services/oidc_consent'
import { identityOf } from '#app_center/http/portal_gate'
import { consentValidator, interactionParamsValidator } from '#app_center/validators/app'

/**
 * The provider's interaction pages: /portal/authorize/:uid. The portal's
 * middleware has made sure a person is signed in (or sent them to sign in
 * and back). Login is answered from the portal session without a question;
 * consent is asked of third-party apps only.
 */
export default class OidcInteractionsController {
  /** Loads the interaction the browser's cookie names, or null when it has expired. */
  private async interaction(ctx: HttpContext): Promise<Interaction | null> {
    const [error, params] = await interactionParamsValidator.tryValidate(ctx.params)
    if (error) return null
    try {
      const interaction = await oidcProvider().interactionDetails(
        ctx.request.request,
        ctx.response.response
      )
      return interaction.uid === params.uid ? interaction : null
    } catch (problem) {
      if (problem instanceof errors.SessionNotFound) return null
      throw problem
    }
  }

  private expired(ctx: HttpContext) {
    ctx.response.status(400)
    return ctx.view.render('pages/app_center/oidc/error', {
      code: 'interaction_expired',
      description: null,
    })
  }

  /**
   * Finishes the interaction and returns the browser to the provider, which
   * sends it on to the app. The page continues with a Refresh rather than a
   * redirect: this page is often the answer to a form (the portal's sign-in,
   * the consent), and browsers hold every redirect after a form to the
   * form-action policy, which allows this site only.
   */
  private async finish(ctx: HttpContext, result: Record<string, unknown>, merge = true) {
    const returnTo = await oidcProvider().interactionResult(
      ctx.request.request,
      ctx.response.response,
      result,
      { mergeWithLastSubmission: merge }
    )
    ctx.response.header('Refresh', `0;url=${returnTo}`)
    ctx.response.header('Cache-Control', 'no-store')
    return ctx.view.render('pages/app_center/oidc/continue', { url: returnTo })
  }

  /** The sign-in for this browser's portal person: the provider switches to them if needed. */
  private login(ctx: HttpContext) {
    const identity = identityOf(ctx.portal!)
    return this.finish(
      ctx,
      {
        login: {
          accountId: identity.personPublicId,
          ts: Math.floor(identity.authenticatedAt.toSeconds()),
        },
      },
      false
    )
  }

  private appOf(interaction: Interaction) {
    return CampusApp.query()
      .where('oidc_client_id', String(interaction.params.client_id))
      .where('kind', 'oidc')
      .first()
  }

  async show(ctx: HttpContext) {
    const interaction = await this.interaction(ctx)
    if (!interaction) return this.expired(ctx)
    const identity = identityOf(ctx.portal!)
    if (interaction.prompt.name === 'login') return this.login(ctx)
    if (interaction.prompt.name !== 'consent') {
      return this.finish(ctx, { error: 'access_denied', error_description: 'unsupported prompt' })
    }
    // Someone else signed in to the portal since: sign them in instead.
    if (interaction.session?.accountId !== identity.personPublicId) return this.login(ctx)
    const app = await this.appOf(interaction)
    if (!app) return this.expired(ctx)
    if (app.firstParty) {
      const grantId = await grantInteraction(oidcProvider(), interaction)
      return this.finish(ctx, { consent: { grantId } })
    }
    ctx.response.header('Cache-Control', 'no-store')
    return ctx.view.render('pages/app_center/oidc/consent', {
      app,
      uid: interaction.uid,
      scopes: requestedScopes(interaction),
      person: ctx.portal!.person,
    })
  }

  async decide(ctx: HttpContext) {
    const interaction = await this.interaction(ctx)
    if (!interaction) return this.expired(ctx)
    const identity = identityOf(ctx.portal!)
    if (
      interaction.prompt.name !== 'consent' ||
      interaction.session?.accountId !== identity.personPublicId
    ) {
      return ctx.response.redirect(`/portal/authorize/${interaction.uid}`)
    }
    const app = await this.appOf(interaction)
    if (!app) return this.expired(ctx)
    const { decision } = await consentValidator.validate(ctx.request.all())
    const actor = portalActorFrom(ctx, ctx.portal!.person)
    const scopes = requestedScopes(interaction)
    if (decision === 'deny') {
      await recordConsent(actor, app, scopes, false)
      return this.finish(ctx, {
        error: 'access_denied',
        error_description: 'the person declined to share their information',
      })
    }
    const grantId = await grantInteraction(oidcProvider(), interaction)
    await recordConsent(actor, app, scopes, true)
    return this.finish(ctx, { consent: { grantId } })
  }
}
