import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Merchant from '#merchants/models/merchant'
import Shop from '#merchants/models/shop'
import { isMerchantCategory, type MerchantCategory } from '#merchants/services/categories'
import {
  checkSplitRules,
  type SplitParty,
  type SplitRuleError,
} from '#merchants/services/split_rules'

export interface MerchantInput {
  code: string
  name: string
  nameEn?: string | null
  category: MerchantCategory
  contactName?: string | null
  commissionBp: number
  splitRules: SplitParty[]
  refundWindowDays: number
}

export type SaveMerchantError =
  | SplitRuleError
  | 'not_found'
  | 'invalid_category'
  | 'invalid_commission'
  | 'invalid_refund_window'
  | 'code_taken'

function auditView(merchant: Merchant) {
  return {
    code: merchant.code,
    name: merchant.name,
    nameEn: merchant.nameEn,
    category: merchant.category,
    status: merchant.status,
    contactName: merchant.contactName,
    commissionBp: merchant.commissionBp,
    splitRules: merchant.splitRules,
    refundWindowDays: merchant.refundWindowDays,
  }
}

function check(input: MerchantInput): Result<MerchantInput, SaveMerchantError> {
  if (!isMerchantCategory(input.category)) return fail('invalid_category')
  if (
    !Number.isSafeInteger(input.commissionBp) ||
    input.commissionBp < 0 ||
    input.commissionBp > 10_000
  )
    return fail('invalid_commission')
  if (
    !Number.isSafeInteger(input.refundWindowDays) ||
    input.refundWindowDays < 0 ||
    input.refundWindowDays > 366
  )
    return fail('invalid_refund_window')
  const split = checkSplitRules(input.splitRules)
  if (!split.ok) return split
  return ok({ ...input, splitRules: split.value })
}

/**
 * Creates a merchant, or changes one (by public id): names, category,
 * commission, split rules and refund window. Audited with before and after.
 */
export class SaveMerchant {
  async handle(
    input: MerchantInput,
    actor: AuditActor,
    publicId?: string
  ): Promise<Result<Merchant, SaveMerchantError>> {
    const checked = check(input)
    if (!checked.ok) return checked
    const data = checked.value
    return db.transaction(async (trx) => {
      const taken = await Merchant.query({ client: trx }).where('code', data.code).first()
      let merchant: Merchant
      let before: ReturnType<typeof auditView> | null = null
      if (publicId) {
        const found = await Merchant.query({ client: trx })
          .where('public_id', publicId.toUpperCase())
          .first()
        if (!found) return fail('not_found')
        if (taken && taken.id !== found.id) return fail('code_taken')
        before = auditView(found)
        merchant = found
      } else {
        if (taken) return fail('code_taken')
        merchant = new Merchant()
        merchant.status = 'enabled'
      }
      merchant.useTransaction(trx)
      merchant.merge({
        code: data.code,
        name: data.name,
        nameEn: data.nameEn || null,
        category: data.category,
        contactName: data.contactName || null,
        commissionBp: data.commissionBp,
        splitRules: data.splitRules,
        refundWindowDays: data.refundWindowDays,
      })
      await merchant.save()
      await recordAudit(
        actor,
        {
          action: before ? 'merchants.merchant_updated' : 'merchants.merchant_created',
          subjectType: 'merchant',
          subjectId: merchant.publicId,
          before,
          after: auditView(merchant),
        },
        trx
      )
      return ok(merchant)
    })
  }
}

/** Enables or disables a merchant: a disabled merchant's shops take no payment. */
export class SetMerchantStatus {
  async handle(
    publicId: string,
    enabled: boolean,
    actor: AuditActor
  ): Promise<Result<Merchant, 'not_found'>> {
    return db.transaction(async (trx) => {
      const merchant = await Merchant.query({ client: trx })
        .where('public_id', String(publicId).toUpperCase())
        .first()
      if (!merchant) return fail('not_found')
      const status = enabled ? 'enabled' : 'disabled'
      if (merchant.status === status) return ok(merchant)
      const before = merchant.status
      merchant.useTransaction(trx)
      merchant.status = status
      await merchant.save()
      await recordAudit(
        actor,
        {
          action: enabled ? 'merchants.merchant_enabled' : 'merchants.merchant_disabled',
          subjectType: 'merchant',
          subjectId: merchant.publicId,
          before: { status: before },
          after: { status },
        },
        trx
      )
      return ok(merchant)
    })
  }
}

export interface ShopInput {
  name: string
  nameEn?: string | null
  location?: string | null
  /** Null: the merchant's category. */
  category: MerchantCategory | null
}

function shopView(shop: Shop) {
  return {
    name: shop.name,
    nameEn: shop.nameEn,
    location: shop.location,
    category: shop.category,
    status: shop.status,
  }
}

/** Creates a shop of a merchant, or changes one. */
export class SaveShop {
  async handle(
    target: { merchantPublicId: string } | { shopPublicId: string },
    input: ShopInput,
    actor: AuditActor
  ): Promise<Result<Shop, 'not_found' | 'invalid_category'>> {
    if (input.category !== null && !isMerchantCategory(input.category))
      return fail('invalid_category')
    return db.transaction(async (trx) => {
      let shop: Shop
      let before: ReturnType<typeof shopView> | null = null
      if ('shopPublicId' in target) {
        const found = await Shop.query({ client: trx })
          .where('public_id', String(target.shopPublicId).toUpperCase())
          .first()
        if (!found) return fail('not_found')
        before = shopView(found)
        shop = found
      } else {
        const merchant = await Merchant.query({ client: trx })
          .where('public_id', String(target.merchantPublicId).toUpperCase())
          .first()
        if (!merchant) return fail('not_found')
        shop = new Shop()
        shop.merchantId = merchant.id
        shop.status = 'enabled'
      }
      shop.useTransaction(trx)
      shop.merge({
        name: input.name,
        nameEn: input.nameEn || null,
        location: input.location || null,
        category: input.category,
      })
      await shop.save()
      await recordAudit(
        actor,
        {
          action: before ? 'merchants.shop_updated' : 'merchants.shop_created',
          subjectType: 'shop',
          subjectId: shop.publicId,
          before,
          after: shopView(shop),
        },
        trx
      )
      return ok(shop)
    })
  }
}

/** Enables or disables a shop, or replaces its static merchant code (a printed code that leaked). */
export class ChangeShop {
  async handle(
    shopPublicId: string,
    change: 'enable' | 'disable' | 'renew_code',
    actor: AuditActor
  ): Promise<Result<Shop, 'not_found'>> {
    const { newShopCodeToken } = await import('#merchants/models/shop')
    return db.transaction(async (trx) => {
      const shop = await Shop.query({ client: trx })
        .where('public_id', String(shopPublicId).toUpperCase())
        .first()
      if (!shop) return fail('not_found')
      shop.useTransaction(trx)
      const before = { status: shop.status }
      if (change === 'renew_code') shop.codeToken = newShopCodeToken()
      else shop.status = change === 'enable' ? 'enabled' : 'disabled'
      await shop.save()
      await recordAudit(
        actor,
        {
          action:
            change === 'renew_code'
              ? 'merchants.shop_code_renewed'
              : change === 'enable'
                ? 'merchants.shop_enabled'
                : 'merchants.shop_disabled',
          subjectType: 'shop',
          subjectId: shop.publicId,
          before,
          after: { status: shop.status },
        },
        trx
      )
      return ok(shop)
    })
  }
}
