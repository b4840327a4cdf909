import type { HttpContext } from '@adonisjs/core/http'
import QRCode from 'qrcode'
import User from '#identity/models/user'
import { SignIn } from '#identity/actions/sign_in'
import { VerifySecondFactor } from '#identity/actions/verify_second_factor'
import { secondFactorValidator, signInValidator } from '#identity/validators/session'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { recordAudit } from '#core/services/audit'
import { generateTotpSecret, totpUri } from '#core/services/totp'
import { currentSchool } from '#appliance/services/school_settings'

/** A password step is good for five minutes of second-factor attempts. */
const PENDING = 'login.pending'
const PENDING_TTL_MS = 5 * 60 * 1000

interface Pending {
  userId: number
  at: number
  enrollSecret?: string
}

export default class SessionController {
  async create({ view }: HttpContext) {
    return view.render('pages/identity/login')
  }

  async store(ctx: HttpContext) {
    const { request, response, session, i18n } = ctx
    const { username, password } = await request.validateUsing(signInValidator)
    const result = await new SignIn().handle(username, password, actorFrom(ctx))
    if (!result.ok) {
      session.flashExcept(NEVER_FLASHED)
      session.flash('error', i18n.t(`identity.login.${result.error}`))
      return response.redirect('/login')
    }
    const { user, secondFactor } = result.value
    const pending: Pending = { userId: user.id, at: Date.now() }
    if (secondFactor === 'enroll') pending.enrollSecret = generateTotpSecret()
    session.put(PENDING, pending)
    return response.redirect('/login/totp')
  }

  private pending(ctx: HttpContext): Pending | null {
    const pending = ctx.session.get(PENDING) as Pending | undefined
    if (!pending || Date.now() - pending.at > PENDING_TTL_MS) return null
    return pending
  }

  async showSecondFactor(ctx: HttpContext) {
    const pending = this.pending(ctx)
    if (!pending) return ctx.response.redirect('/login')
    if (!pending.enrollSecret) return ctx.view.render('pages/identity/totp', { enroll: false })
    const user = await User.findOrFail(pending.userId)
    const school = await currentSchool()
    const uri = totpUri(pending.enrollSecret, user.username, `Quad ${school?.name ?? ''}`.trim())
    const qrSvg = await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
    return ctx.view.render('pages/identity/totp', {
      enroll: true,
      qrSvg,
      secret: pending.enrollSecret,
    })
  }

  async verifySecondFactor(ctx: HttpContext) {
    const { response, session, i18n, auth } = ctx
    const pending = this.pending(ctx)
    if (!pending) {
      session.flash('error', i18n.t('identity.login.step_expired'))
      return response.redirect('/login')
    }
    const { code } = await ctx.request.validateUsing(secondFactorValidator)
    const user = await User.findOrFail(pending.userId)
    const actor = {
      ...actorFrom(ctx),
      type: 'user' as const,
      id: user.publicId,
      name: user.username,
    }
    const result = await new VerifySecondFactor().handle(user.id, code, actor, pending.enrollSecret)
    if (!result.ok) {
      if (result.error === 'locked') {
        session.forget(PENDING)
        session.flash('error', i18n.t('identity.login.locked'))
        return response.redirect('/login')
      }
      session.flash('error', i18n.t('identity.login.invalid_code'))
      return response.redirect('/login/totp')
    }
    session.forget(PENDING)
    await auth.use('web').login(result.value)
    session.put('quad.last_seen_at', Date.now())
    return response.redirect('/console')
  }

  async destroy(ctx: HttpContext) {
    const user = ctx.auth.user
    if (user) {
      await recordAudit(actorFrom(ctx), {
        action: 'auth.logout',
        subjectType: 'user',
        subjectId: user.publicId,
      })
      await ctx.auth.use('web').logout()
    }
    ctx.session.clear()
    ctx.session.flash('notice', ctx.i18n.t('identity.login.signed_out'))
    return ctx.response.redirect('/login')
  }
}
