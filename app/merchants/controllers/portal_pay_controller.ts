import type { HttpContext } from '@adonisjs/core/http'
import { portalActorFrom } from '#identity/http/portal_session'
import { newPublicId } from '#core/services/ids'
import { PayMerchantCode } from '#ledger/actions/pay_merchant_code'
import { Money } from '#ledger/services/money'
import { paymentSettings } from '#merchants/services/payment_settings'
import {
  hasPin,
  PIN_LOCK_MINUTES,
  PIN_MAX_FAILURES,
  setPin,
} from '#merchants/services/payment_pins'
import { findPayee } from '#merchants/services/shop_payments'
import { merchantCodePayValidator, pinValidator } from '#merchants/validators/portal'

/** The token out of what a scanner read: the pay page's address, or the bare token. */
export function tokenFromScan(text: string): string | null {
  const trimmed = String(text ?? '').trim()
  const match = /\/portal\/pay\/([\w-]{16,40})(?:[?#].*)?$/.exec(trimmed)
  if (match) return match[1]
  return /^[\w-]{16,40}$/.test(trimmed) ? trimmed : null
}

/**
 * The portal's merchant-code payment (mobile H5): the holder scans a shop's
 * printed code (the phone's camera opens /portal/pay/<token>), enters the
 * amount and confirms, with the payment PIN above the threshold.
 */
export default class PortalPayController {
  /** The scan page: the camera where the browser can read QR codes, or the code typed in. */
  async scan({ view, request, response }: HttpContext) {
    const scanned = request.input('code')
    if (scanned !== undefined) {
      const token = tokenFromScan(String(scanned))
      if (token) return response.redirect(`/portal/pay/${token}`)
      return view.render('pages/merchants/portal_scan', {
        error: 'merchants.pay.not_a_merchant_code',
      })
    }
    return view.render('pages/merchants/portal_scan', { error: null })
  }

  async show(ctx: HttpContext) {
    const { view, params, response } = ctx
    const { person } = ctx.portal!
    const payee = await findPayee({ codeToken: String(params.token) })
    if (!payee.ok && payee.error === 'shop_not_found') return response.notFound()
    const settings = await paymentSettings()
    return view.render('pages/merchants/portal_pay', {
      token: String(params.token),
      payee: payee.ok ? payee.value : null,
      refused: payee.ok ? null : payee.error,
      settings,
      hasPin: await hasPin(person.id),
      idempotencyKey: newPublicId(),
    })
  }

  async pay(ctx: HttpContext) {
    const { request, response, session, i18n, params, view } = ctx
    const { person } = ctx.portal!
    const back = `/portal/pay/${encodeURIComponent(String(params.token))}`
    const [error, data] = await merchantCodePayValidator.tryValidate(request.all())
    const money = data ? Money.parse(data.amount) : null
    if (error || !data || !money?.ok) {
      session.flash('error', i18n.t('merchants.errors.invalid_amount'))
      return response.redirect(back)
    }
    const result = await new PayMerchantCode().handle({
      person: { id: person.id, publicId: person.publicId },
      shopToken: String(params.token),
      amount: money.value.fen,
      pin: data.pin ?? null,
      idempotencyKey: `portal-pay:${person.publicId}:${data.idempotencyKey}`,
      actor: portalActorFrom(ctx, person),
    })
    if (!result.ok) {
      session.flash(
        'error',
        i18n.t(`merchants.errors.${result.error}`, {
          ...result.details,
          max: PIN_MAX_FAILURES,
          minutes: PIN_LOCK_MINUTES,
        })
      )
      return response.redirect(back)
    }
    return view.render('pages/merchants/portal_paid', { receipt: result.value })
  }

  async pinForm(ctx: HttpContext) {
    const { person } = ctx.portal!
    return ctx.view.render('pages/merchants/portal_pin', { hasPin: await hasPin(person.id) })
  }

  async savePin(ctx: HttpContext) {
    const { request, response, session, i18n } = ctx
    const { person } = ctx.portal!
    const [error, data] = await pinValidator.tryValidate(request.all())
    if (error || !data || data.pin !== data.pinConfirmation) {
      session.flash('error', i18n.t('merchants.errors.pin_mismatch'))
      return response.redirect('/portal/pay/pin')
    }
    const result = await setPin(
      { id: person.id, publicId: person.publicId },
      { pin: data.pin, currentPin: data.currentPin ?? null },
      portalActorFrom(ctx, person)
    )
    if (!result.ok) {
      session.flash(
        'error',
        i18n.t(`merchants.errors.${result.error}`, {
          ...result.details,
          max: PIN_MAX_FAILURES,
          minutes: PIN_LOCK_MINUTES,
        })
      )
      return response.redirect('/portal/pay/pin')
    }
    session.flash('notice', i18n.t('merchants.pin.saved'))
    return response.redirect('/portal/pay')
  }
}
