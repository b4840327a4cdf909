/**
 * Given-state builders for payments at shops. Import after the app has booted.
 */
import type { AuditActor } from '#core/services/audit'

let merchants = 0

/** A merchant with one shop, both enabled unless told otherwise. */
export async function givenShop(
  options: {
    category?: string
    merchantStatus?: 'enabled' | 'disabled'
    shopStatus?: 'enabled' | 'disabled'
  } = {}
) {
  const { default: Merchant } = await import('#merchants/models/merchant')
  const { default: Shop } = await import('#merchants/models/shop')
  merchants += 1
  const merchant = await Merchant.create({
    code: `M${process.pid}-${merchants}`,
    name: `测试商户${merchants}`,
    nameEn: `Test merchant ${merchants}`,
    category: (options.category ?? 'canteen') as 'canteen',
    status: options.merchantStatus ?? 'enabled',
    contactName: null,
    commissionBp: 0,
    splitRules: [
      { party: 'operator', basisPoints: 8500 },
      { party: 'school', basisPoints: 1500 },
    ],
    refundWindowDays: 7,
  })
  const shop = await Shop.create({
    merchantId: merchant.id,
    name: `一食堂${merchants}号窗口`,
    nameEn: null,
    location: '一食堂',
    category: null,
    status: options.shopStatus ?? 'enabled',
  })
  return { merchant, shop }
}

export const TILL: AuditActor = { type: 'terminal', id: 'T-TILL-1', name: 'till 1' }

/**
 * A person with an active card, a device that makes campus codes for it, and
 * `fen` in the cash wallet.
 */
export async function givenPayer(fen: number, options: { type?: string } = {}) {
  const { givenPerson, newKey } = await import('#tests/ledger/given')
  const { givenCard, givenHolderDevice } = await import('#tests/cards/code_fixtures')
  const { ActivateCard } = await import('#cards/actions/activate_card')
  const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
  const person = await givenPerson('付款人')
  await person.merge({ identityType: 'teacher' }).save()
  const card = await givenCard(person.id, options.type ?? 'teacher')
  const activated = await new ActivateCard().handle({ card: { id: card.id } }, { type: 'system' })
  if (!activated.ok) throw new Error(activated.error)
  const device = await givenHolderDevice(card.cardNo)
  if (fen > 0) {
    const topUp = await new TopUpAtCounter().handle({
      personPublicId: person.publicId,
      amount: fen,
      idempotencyKey: newKey('topup'),
      actor: { type: 'system', name: 'test' },
    })
    if (!topUp.ok) throw new Error(topUp.error)
  }
  return { person, card, device }
}

/** The person's cash wallet balance (fen). */
export async function cashOf(personId: number): Promise<number> {
  const { walletsOf } = await import('#ledger/services/accounts')
  const wallets = await walletsOf(personId)
  return wallets.find((wallet) => wallet.kind === 'wallet_cash')?.balance ?? 0
}
