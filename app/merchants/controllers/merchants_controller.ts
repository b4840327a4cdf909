import type { HttpContext } from '@adonisjs/core/http'
import QRCode from 'qrcode'
import { actorFrom } from '#core/http/actor'
import { newPublicId } from '#core/services/ids'
import { RefundPayment } from '#ledger/actions/refund_payment'
import { merchantAccount } from '#ledger/services/accounts'
import { Money } from '#ledger/services/money'
import Merchant from '#merchants/models/merchant'
import Shop from '#merchants/models/shop'
import {
  ChangeShop,
  SaveMerchant,
  SaveShop,
  SetMerchantStatus,
} from '#merchants/actions/save_merchant'
import { MERCHANT_CATEGORIES } from '#merchants/services/categories'
import {
  DEFAULT_PAYMENT_SETTINGS,
  paymentSettings,
  PAYMENT_SETTING_KEYS,
  savePaymentSettings,
  SETTING_BOUNDS,
  type PaymentSettings,
} from '#merchants/services/payment_settings'
import { recordAudit } from '#core/services/audit'
import {
  merchantValidator,
  parseSplitLines,
  paymentSettingsValidator,
  refundValidator,
  shopValidator,
} from '#merchants/validators/merchants'

function splitText(merchant: Merchant | null) {
  return (merchant?.splitRules ?? [{ party: 'operator', basisPoints: 10_000 }])
    .map((party) => `${party.party}=${party.basisPoints}`)
    .join('\n')
}

/** The address a shop's static merchant code opens in a phone's camera: the portal's pay page. */
export function merchantCodeUrl(ctx: HttpContext, token: string) {
  const base = `${ctx.request.protocol()}://${ctx.request.host()}`
  return `${base}/portal/pay/${token}`
}

/** The merchants console: merchants, shops, split rules, refunds and payment limits. */
export default class MerchantsController {
  async index({ view, bouncer, request }: HttpContext) {
    await bouncer.authorize('permit', 'merchants.view')
    const q = String(request.input('q', '')).trim().slice(0, 64)
    const query = Merchant.query().withCount('shops').orderBy('code')
    if (q) query.where((inner) => inner.whereILike('name', `%${q}%`).orWhereILike('code', `%${q}%`))
    const merchants = await query.limit(500)
    return view.render('pages/merchants/index', { merchants, q })
  }

  async create({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'merchants.manage')
    const settings = await paymentSettings()
    return view.render('pages/merchants/form', {
      merchant: null,
      categories: MERCHANT_CATEGORIES,
      split: splitText(null),
      defaults: { refundWindowDays: settings.refundWindowDays },
    })
  }

  async edit(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'merchants.manage')
    const merchant = await this.find(ctx)
    if (!merchant) return ctx.response.notFound()
    return ctx.view.render('pages/merchants/form', {
      merchant,
      categories: MERCHANT_CATEGORIES,
      split: splitText(merchant),
      defaults: { refundWindowDays: merchant.refundWindowDays },
    })
  }

  async store(ctx: HttpContext) {
    return this.save(ctx, undefined)
  }

  async update(ctx: HttpContext) {
    return this.save(ctx, String(ctx.params.publicId))
  }

  private async save(ctx: HttpContext, publicId: string | undefined) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'merchants.manage')
    const data = await request.validateUsing(merchantValidator)
    const result = await new SaveMerchant().handle(
      {
        code: data.code,
        name: data.name,
        nameEn: data.nameEn ?? null,
        category: data.category,
        contactName: data.contactName ?? null,
        commissionBp: data.commissionBp,
        splitRules: parseSplitLines(data.splitRules),
        refundWindowDays: data.refundWindowDays,
      },
      actorFrom(ctx),
      publicId
    )
    if (!result.ok) {
      if (result.error === 'not_found') return response.notFound()
      session.flashAll()
      session.flash('error', i18n.t(`merchants.errors.${result.error}`))
      return response.redirect(
        publicId ? `/console/merchants/${publicId}/edit` : '/console/merchants/new'
      )
    }
    session.flash('notice', i18n.t('merchants.saved'))
    return response.redirect(`/console/merchants/${result.value.publicId}`)
  }

  async show(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'merchants.view')
    const merchant = await this.find(ctx)
    if (!merchant) return ctx.response.notFound()
    const shops = await Shop.query().where('merchant_id', merchant.id).orderBy('id')
    const account = await merchantAccount(merchant.id)
    const payments = await this.payments(merchant.id)
    return ctx.view.render('pages/merchants/show', {
      merchant,
      shops,
      balance: account.balance,
      payments,
      categories: MERCHANT_CATEGORIES,
      refundKey: newPublicId(),
      canManage: await ctx.bouncer.allows('permit', 'merchants.manage'),
      canFinance: await ctx.bouncer.allows('permit', 'ledger.write'),
    })
  }

  private async payments(merchantId: number) {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    return db
      .from('merchant_payments')
      .join('shops', 'shops.id', 'merchant_payments.shop_id')
      .join('people', 'people.id', 'merchant_payments.person_id')
      .join('ledger_transfers', 'ledger_transfers.id', 'merchant_payments.transfer_id')
      .where('merchant_payments.merchant_id', merchantId)
      .orderBy('merchant_payments.id', 'desc')
      .limit(50)
      .select(
        'merchant_payments.public_id',
        'merchant_payments.channel',
        'merchant_payments.amount',
        'merchant_payments.refunded',
        'merchant_payments.paid_at',
        'shops.name as shop_name',
        'people.name as person_name',
        'ledger_transfers.public_id as transfer_public_id'
      )
  }

  async status(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'merchants.manage')
    const enabled = request.input('status') === 'enabled'
    const result = await new SetMerchantStatus().handle(
      String(ctx.params.publicId),
      enabled,
      actorFrom(ctx)
    )
    if (!result.ok) return response.notFound()
    session.flash('notice', i18n.t(enabled ? 'merchants.enabled_now' : 'merchants.disabled_now'))
    return response.redirect(`/console/merchants/${result.value.publicId}`)
  }

  async storeShop(ctx: HttpContext) {
    return this.saveShop(ctx, { merchantPublicId: String(ctx.params.publicId) })
  }

  async showShop(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'merchants.view')
    const shop = await Shop.query()
      .where('public_id', String(ctx.params.publicId).toUpperCase())
      .preload('merchant')
      .first()
    if (!shop) return ctx.response.notFound()
    const url = merchantCodeUrl(ctx, shop.codeToken)
    const qr = await QRCode.toString(url, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' })
    return ctx.view.render('pages/merchants/shop', {
      shop,
      merchant: shop.merchant,
      qr,
      url,
      categories: MERCHANT_CATEGORIES,
      canManage: await ctx.bouncer.allows('permit', 'merchants.manage'),
    })
  }

  async updateShop(ctx: HttpContext) {
    return this.saveShop(ctx, { shopPublicId: String(ctx.params.publicId) })
  }

  /** A new shop of a merchant, or an existing shop, from the shop form. */
  private async saveShop(
    ctx: HttpContext,
    target: { merchantPublicId: string } | { shopPublicId: string }
  ) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'merchants.manage')
    const data = await request.validateUsing(shopValidator)
    const result = await new SaveShop().handle(
      target,
      {
        name: data.name,
        nameEn: data.nameEn,
        location: data.location,
        category: data.category ?? null,
      },
      actorFrom(ctx)
    )
    if (!result.ok) return response.notFound()
    session.flash('notice', i18n.t('merchants.shops.saved'))
    return response.redirect(`/console/merchants/shops/${result.value.publicId}`)
  }

  async changeShop(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'merchants.manage')
    const change = request.input('change')
    if (!['enable', 'disable', 'renew_code'].includes(change)) return response.badRequest()
    const result = await new ChangeShop().handle(
      String(ctx.params.publicId),
      change,
      actorFrom(ctx)
    )
    if (!result.ok) return response.notFound()
    session.flash('notice', i18n.t(`merchants.shops.changed.${change}`))
    return response.redirect(`/console/merchants/shops/${result.value.publicId}`)
  }

  async refund(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    const data = await request.validateUsing(refundValidator)
    await bouncer.authorize(
      'permit',
      data.authority === 'finance' ? 'ledger.write' : 'merchants.manage'
    )
    const money = Money.parse(data.amount)
    const amount = money.ok ? money.value.fen : Number.NaN
    const back = await this.merchantPageOf(String(ctx.params.publicId))
    const result = await new RefundPayment().handle({
      paymentPublicId: String(ctx.params.publicId),
      amount,
      reason: data.reason ?? null,
      authority: data.authority,
      idempotencyKey: `console-refund:${data.idempotencyKey}`,
      actor: actorFrom(ctx),
    })
    if (!result.ok) {
      session.flash('error', i18n.t(`merchants.errors.${result.error}`, { ...result.details }))
      return response.redirect(back)
    }
    session.flash('notice', i18n.t('merchants.refunds.booked'))
    return response.redirect(back)
  }

  async settings({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'merchants.view')
    return view.render('pages/merchants/settings', {
      settings: await paymentSettings(),
      defaults: DEFAULT_PAYMENT_SETTINGS,
    })
  }

  async saveSettings(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'merchants.manage')
    const data = await request.validateUsing(paymentSettingsValidator)
    const changes: Partial<PaymentSettings> = { refundWindowDays: data.refundWindowDays }
    for (const key of PAYMENT_SETTING_KEYS) {
      if (key === 'refundWindowDays') continue
      const money = Money.parse(String(data[key]))
      const [low, high] = SETTING_BOUNDS[key]
      if (!money.ok || money.value.fen < low || money.value.fen > high) {
        session.flashAll()
        session.flash(
          'error',
          i18n.t('merchants.errors.invalid_setting', { field: i18n.t(`merchants.settings.${key}`) })
        )
        return response.redirect('/console/merchants/settings')
      }
      changes[key] = money.value.fen
    }
    const { before, after } = await savePaymentSettings(changes)
    await recordAudit(actorFrom(ctx), {
      action: 'merchants.payment_settings_changed',
      subjectType: 'payment_settings',
      subjectId: 'payment',
      before: { ...before },
      after: { ...after },
    })
    session.flash('notice', i18n.t('merchants.settings.saved'))
    return response.redirect('/console/merchants/settings')
  }

  /** The console page of the merchant a payment was made to. */
  private async merchantPageOf(paymentPublicId: string) {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const row = await db
      .from('merchant_payments')
      .join('merchants', 'merchants.id', 'merchant_payments.merchant_id')
      .where('merchant_payments.public_id', paymentPublicId.toUpperCase())
      .select('merchants.public_id')
      .first()
    return row ? `/console/merchants/${row.public_id}` : '/console/merchants'
  }

  private async find(ctx: HttpContext) {
    return Merchant.query().where('public_id', String(ctx.params.publicId).toUpperCase()).first()
  }
}
