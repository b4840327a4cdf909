import type { HttpContext } from '@adonisjs/core/http'
import limiter from '@adonisjs/limiter/services/main'
import QRCode from 'qrcode'
import quadConfig from '#config/quad'
import { StartQrLogin } from '#identity/actions/portal_start_qr_login'
import { DecideQrLogin, type QrDecision } from '#identity/actions/portal_decide_qr_login'
import { RedeemQrLogin } from '#identity/actions/portal_redeem_qr_login'
import { portalActorFrom, requestOrigin, setPortalCookie } from '#identity/http/portal_session'
import {
  browserBinding,
  challengeByToken,
  challengeOpen,
  noteQrScanned,
  QR_CHALLENGE_TTL_SECONDS,
} from '#identity/services/portal_qr'
import { tlsEnabled } from '#appliance/services/https_server'

/** Binds a QR challenge to the desktop browser that showed it. */
const QR_COOKIE = 'quad_portal_qr'

/** New QR codes per client address per minute; a page asks again only when one expires. */
const QR_CODES_PER_MINUTE = 30

/** Where the phone should open the link: APP_URL when set, else the address the desktop used. */
function portalBase(ctx: HttpContext) {
  if (quadConfig.appUrl) return quadConfig.appUrl.replace(/\/+$/, '')
  return `${ctx.request.protocol()}://${ctx.request.host()}`
}

/**
 * QR login. The desktop sign-in page asks for a code and polls it; the
 * phone opens the code's link, signed in to the portal, and approves or
 * rejects.
 */
export default class PortalQrController {
  /** A new challenge for this desktop browser, as an SVG QR code (JSON). */
  async start(ctx: HttpContext) {
    const { request, response } = ctx
    const started = await limiter
      .use('database', { requests: QR_CODES_PER_MINUTE, duration: '1 min' })
      .attempt(`portal_qr_${request.ip()}`, () => new StartQrLogin().handle(requestOrigin(ctx)))
    if (!started) return response.status(429).send({ status: 'too_many_requests' })
    const url = `${portalBase(ctx)}/portal/qr/${started.token}`
    const svg = await QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
    response.plainCookie(QR_COOKIE, browserBinding(started.challenge, started.browserSecret), {
      path: '/portal/login',
      httpOnly: true,
      secure: tlsEnabled(),
      sameSite: 'strict',
      encode: false,
      maxAge: QR_CHALLENGE_TTL_SECONDS + 60,
    })
    response.header('Cache-Control', 'no-store')
    return { status: 'pending', svg, url, expiresIn: QR_CHALLENGE_TTL_SECONDS }
  }

  /**
   * The desktop's poll. Once a phone approved, this request redeems the
   * challenge and starts the desktop's session.
   */
  async poll(ctx: HttpContext) {
    const { request, response } = ctx
    response.header('Cache-Control', 'no-store')
    const binding = request.plainCookie(QR_COOKIE, { encoded: false })
    const result = await new RedeemQrLogin().handle(binding, requestOrigin(ctx))
    if (!result.ok) return { status: 'unknown' }
    const state = result.value
    if (state.status !== 'signed_in') return { status: state.status }
    setPortalCookie(ctx, state.started)
    response.clearCookie(QR_COOKIE, { path: '/portal/login' })
    return { status: 'signed_in', redirect: '/portal' }
  }

  /** On the phone: "sign in on the computer?" with the computer's address and browser. */
  async review(ctx: HttpContext) {
    const challenge = await challengeByToken(ctx.params.token)
    if (!challenge || !challengeOpen(challenge)) {
      return ctx.view.render('pages/portal/qr_result', { outcome: 'invalid' })
    }
    await noteQrScanned(challenge)
    return ctx.view.render('pages/portal/qr_review', { challenge, token: ctx.params.token })
  }

  async approve(ctx: HttpContext) {
    return this.decide(ctx, 'approve')
  }

  async reject(ctx: HttpContext) {
    return this.decide(ctx, 'reject')
  }

  private async decide(ctx: HttpContext, decision: QrDecision) {
    const portal = ctx.portal!
    const result = await new DecideQrLogin().handle(
      String(ctx.params.token),
      decision,
      portal,
      portalActorFrom(ctx, portal.person)
    )
    const outcome = result.ok ? (decision === 'approve' ? 'approved' : 'rejected') : 'invalid'
    return ctx.view.render('pages/portal/qr_result', { outcome })
  }
}
