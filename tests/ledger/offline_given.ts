/**
 * Given-state builders for the offline-payment and arrears tests. Import
 * after the app has booted.
 */
import db from '@adonisjs/lucid/services/db'
import { newPublicId } from '#core/services/ids'
import type { HolderDevice } from '#tests/cards/code_fixtures'

let shops = 0

/** A merchant with one shop (by the merchants module's tables); returns the shop's ids. */
export async function givenShop(category = 'canteen') {
  shops += 1
  const now = new Date().toISOString().replace('T', ' ').slice(0, 19)
  const [merchant] = await db
    .table('merchants')
    .insert({
      public_id: newPublicId(),
      code: `M-OFF-${process.pid}-${shops}`,
      name: `第${shops}食堂`,
      category,
      status: 'enabled',
      commission_bp: 0,
      split_rules: '[]',
      refund_window_days: 7,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
  const merchantId = Number(typeof merchant === 'object' ? merchant.id : merchant)
  const publicId = newPublicId()
  const [shop] = await db
    .table('shops')
    .insert({
      public_id: publicId,
      merchant_id: merchantId,
      name: '一楼窗口',
      status: 'enabled',
      code_token: `tok-${process.pid}-${shops}-${Date.now()}`,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
  return { publicId, id: Number(typeof shop === 'object' ? shop.id : shop), merchantId }
}

/** An offline record as a terminal stores it: a code made `ago` seconds back, scanned then. */
export async function offlineRecordOf(
  device: HolderDevice,
  shop: string,
  sequence: number,
  amount: number,
  ago = 600
) {
  const { codeOf } = await import('#tests/cards/code_fixtures')
  const at = Math.floor(Date.now() / 1000) - ago
  return {
    sequence,
    code: await codeOf(device, at),
    cardNo: device.cardNo,
    amount,
    recordedAt: at,
    shop,
  }
}
