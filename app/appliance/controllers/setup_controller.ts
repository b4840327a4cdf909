import type { HttpContext } from '@adonisjs/core/http'
import QRCode from 'qrcode'
import { SetUpSchool } from '#appliance/actions/set_up_school'
import { setupValidator, TIME_ZONES } from '#appliance/validators/setup'
import { isSetUp } from '#appliance/services/school_settings'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { recordAudit } from '#core/services/audit'
import { generateTotpSecret, totpUri } from '#core/services/totp'

const TOTP_SECRET = 'setup.totp_secret'

/**
 * The first-run wizard. The TOTP secret stays in the session between a
 * failed submission and the next, so the QR code the admin scanned stays valid.
 */
export default class SetupController {
  async show(ctx: HttpContext) {
    if (await isSetUp()) return ctx.response.redirect('/login')
    let secret = ctx.session.get(TOTP_SECRET) as string | undefined
    if (!secret) {
      secret = generateTotpSecret()
      ctx.session.put(TOTP_SECRET, secret)
    }
    const username = String(ctx.session.flashMessages.get('username') ?? 'admin')
    const qrSvg = await QRCode.toString(totpUri(secret, username, 'Quad'), {
      type: 'svg',
      margin: 1,
      errorCorrectionLevel: 'M',
    })
    return ctx.view.render('pages/appliance/setup', { qrSvg, secret, timeZones: TIME_ZONES })
  }

  async store(ctx: HttpContext) {
    const { request, response, session, i18n } = ctx
    if (await isSetUp()) {
      await recordAudit(actorFrom(ctx), { action: 'appliance.setup_refused', outcome: 'denied' })
      session.flash('error', i18n.t('appliance.setup.already_done'))
      return response.redirect('/login')
    }
    const secret = session.get(TOTP_SECRET) as string | undefined
    if (!secret) return response.redirect('/setup')
    const data = await request.validateUsing(setupValidator)
    const result = await new SetUpSchool().handle({ ...data, totpSecret: secret }, actorFrom(ctx))
    if (!result.ok) {
      if (result.error === 'already_set_up') {
        session.flash('error', i18n.t('appliance.setup.already_done'))
        return response.redirect('/login')
      }
      session.flashExcept(NEVER_FLASHED)
      const field = result.error === 'totp_mismatch' ? 'totpCode' : 'password'
      session.flash('inputErrorsBag', {
        [field]: [i18n.t(`appliance.setup.errors.${result.error}`)],
      })
      return response.redirect('/setup')
    }
    session.forget(TOTP_SECRET)
    session.flash('notice', i18n.t('appliance.setup.done'))
    return response.redirect('/login')
  }
}
