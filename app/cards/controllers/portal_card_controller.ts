import type { HttpContext } from '@adonisjs/core/http'
import { currentSchool } from '#appliance/services/school_settings'
import { fromBase64Url, toBase64Url } from '#cards/campus_code/bytes'
import { FreezeCard } from '#cards/actions/freeze_card'
import { IssueDeviceCredential } from '#cards/actions/issue_device_credential'
import {
  checkDeviceProof,
  CODE_REFRESH_SECONDS,
  deviceChallenge,
  portalCardOf,
  portalCardsOf,
  RENEW_AFTER_SECONDS,
} from '#cards/services/card_devices'
import { cardSample, faceView } from '#cards/services/card_view'
import { formatCardNo } from '#cards/services/card_numbers'
import {
  cardChallengeValidator,
  cardDeviceValidator,
  cardLossValidator,
} from '#cards/validators/portal_card'
import { portalActorFrom } from '#identity/http/portal_session'

/**
 * The portal's card page (/portal/card): the card face and the live campus
 * code, activation on this phone, credential renewal and the holder's loss
 * report. The page's script (public/js/card_page.js) keeps the device key
 * and makes the codes; the server only signs credentials.
 */
export default class PortalCardController {
  async show(ctx: HttpContext) {
    const { i18n } = ctx
    const { person } = ctx.portal!
    // ?card= picks one of several cards (a student card and a temporary card…).
    const [invalid, query] = await cardChallengeValidator.tryValidate(ctx.request.qs())
    const wanted = invalid ? null : (query.card ?? null)
    const card =
      (wanted && (await portalCardOf(person.id, wanted))) || (await portalCardOf(person.id))
    const others = await portalCardsOf(person.id)
    const school = await currentSchool()
    const t = i18n.t.bind(i18n)
    const { arrearsFor } = await import('#ledger/services/arrears')
    const { walletTotal } = await import('#reports/services/wallet_report')
    return ctx.view.render('pages/cards/portal/card', {
      card,
      switcher:
        others.length > 1
          ? others.map((each) => ({
              publicId: each.publicId,
              name: each.cardType.nameIn(i18n.locale),
              current: each.publicId === card?.publicId,
            }))
          : [],
      arrears: await arrearsFor(person.id),
      walletTotal: await walletTotal(person.id),
      number: card ? formatCardNo(card.cardNo) : null,
      typeName: card ? card.cardType.nameIn(i18n.locale) : null,
      usable: card ? card.state === 'active' || card.state === 'pending_activation' : false,
      refreshSeconds: CODE_REFRESH_SECONDS,
      face: card
        ? faceView({
            key: card.publicId,
            type: null,
            face: card.cardType.face,
            locale: i18n.locale,
            schoolName: school?.name ?? '',
            typeName: card.cardType.nameIn(i18n.locale),
            sample: cardSample(card, {
              validityLabel: (date) => t('cards.face.valid_until', { date }),
              noEnd: t('cards.face.no_end'),
              photoUrl: null,
            }),
          })
        : null,
    })
  }

  /** A one-time challenge the phone signs with its device key. */
  async challenge(ctx: HttpContext) {
    const { person, session } = ctx.portal!
    const [error, input] = await cardChallengeValidator.tryValidate(ctx.request.all())
    if (error) return ctx.response.status(422).send({ error: 'invalid_request' })
    const card = await portalCardOf(person.id, input.card)
    if (!card) return ctx.response.status(404).send({ error: 'not_found' })
    return { card: card.publicId, challenge: deviceChallenge(session.id, card.id) }
  }

  /** Activation on this phone: binds the device key and returns its first credential. */
  activate(ctx: HttpContext) {
    return this.issue(ctx, 'activate')
  }

  /** A fresh credential for the device key in use. */
  renew(ctx: HttpContext) {
    return this.issue(ctx, 'renew')
  }

  private async issue(ctx: HttpContext, mode: 'activate' | 'renew') {
    const { person, session } = ctx.portal!
    const { response } = ctx
    const [error, input] = await cardDeviceValidator.tryValidate(ctx.request.all())
    if (error) return response.status(422).send({ error: 'invalid_request' })
    const card = await portalCardOf(person.id, input.card)
    if (!card) return response.status(404).send({ error: 'not_found' })
    const publicKey = fromBase64Url(input.publicKey)
    const proven = await checkDeviceProof({
      sessionId: session.id,
      cardId: card.id,
      challenge: input.challenge,
      publicKey,
      proof: fromBase64Url(input.proof),
    })
    if (!proven) return response.status(400).send({ error: 'bad_proof' })
    const result = await new IssueDeviceCredential().handle(
      { cardId: card.id, personId: person.id, publicKey, mode, label: input.label ?? null },
      portalActorFrom(ctx, person)
    )
    if (!result.ok) {
      const status = result.error === 'not_found' ? 404 : 409
      return response.status(status).send({ error: result.error, state: card.state })
    }
    const issued = result.value
    return {
      card: issued.card.publicId,
      state: issued.card.state,
      credential: toBase64Url(issued.credential),
      kid: issued.kid,
      issuedAt: issued.issuedAt,
      validUntil: issued.validUntil,
      serverTime: Math.floor(Date.now() / 1000),
      refreshSeconds: CODE_REFRESH_SECONDS,
      renewAfterSeconds: RENEW_AFTER_SECONDS,
    }
  }

  /** The holder reports the card lost: it is frozen and blacklisted at once. */
  async freeze(ctx: HttpContext) {
    const { person } = ctx.portal!
    const { i18n, session, response } = ctx
    const [error, input] = await cardLossValidator.tryValidate(ctx.request.all())
    const card = error ? null : await portalCardOf(person.id, input.card)
    if (!card) {
      session.flash('error', i18n.t('card_page.freeze.not_found'))
      return response.redirect('/portal/card')
    }
    const result = await new FreezeCard().handle(
      { card: { id: card.id }, by: 'holder', reason: 'lost', note: input?.note ?? null },
      portalActorFrom(ctx, person)
    )
    session.flash(
      result.ok ? 'notice' : 'error',
      i18n.t(result.ok ? 'card_page.freeze.done' : 'card_page.freeze.refused')
    )
    return response.redirect('/portal/card')
  }
}
