import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { dbTime } from '#ledger/services/accounts'

/**
 * Payment limits and thresholds (docs/merchants.md#limits). The defaults
 * follow the People's Bank of China's barcode-payment rules (银发〔2017〕296号):
 * a payment by static code (the holder scans a shop's printed merchant
 * code) at most ¥500 a day; a dynamic code verified with fewer than two
 * kinds of factor (the campus code: a device-key signature, no PIN) at most
 * ¥1,000 a day (tier C). The finance office may lower or raise them.
 */
export interface PaymentSettings {
  /** Campus code at a till: most per payment, and per holder per day (fen). */
  codeMaxPerPayment: number
  codeMaxPerDay: number
  /** Merchant code in the portal: most per payment, and per holder per day (fen). */
  merchantCodeMaxPerPayment: number
  merchantCodeMaxPerDay: number
  /** Merchant-code payments above this need the payment PIN (fen; 0: always). */
  pinThreshold: number
  /** Days within which a merchant may refund a payment (finance: any time). */
  refundWindowDays: number
}

export const DEFAULT_PAYMENT_SETTINGS: Readonly<PaymentSettings> = Object.freeze({
  codeMaxPerPayment: 100_000,
  codeMaxPerDay: 100_000,
  merchantCodeMaxPerPayment: 50_000,
  merchantCodeMaxPerDay: 50_000,
  pinThreshold: 5_000,
  refundWindowDays: 7,
})

/** Anything above this is no payment a school takes (¥1,000,000): refused before any limit. */
export const MAX_PAYMENT_AMOUNT = 100_000_000

export const PAYMENT_SETTING_KEYS = Object.keys(
  DEFAULT_PAYMENT_SETTINGS
) as (keyof PaymentSettings)[]

/** The bounds each setting is held in. */
export const SETTING_BOUNDS: Record<keyof PaymentSettings, [number, number]> = {
  codeMaxPerPayment: [1, MAX_PAYMENT_AMOUNT],
  codeMaxPerDay: [1, MAX_PAYMENT_AMOUNT],
  merchantCodeMaxPerPayment: [1, MAX_PAYMENT_AMOUNT],
  merchantCodeMaxPerDay: [1, MAX_PAYMENT_AMOUNT],
  pinThreshold: [0, MAX_PAYMENT_AMOUNT],
  refundWindowDays: [0, 366],
}

/** Read at most this often by each process: a change reaches every process within it. */
const CACHE_MS = 10_000
let cached: { settings: PaymentSettings; at: number } | null = null

function parse(rows: { key: string; value: string }[]): PaymentSettings {
  const settings: PaymentSettings = { ...DEFAULT_PAYMENT_SETTINGS }
  for (const row of rows) {
    const key = row.key as keyof PaymentSettings
    if (!PAYMENT_SETTING_KEYS.includes(key)) continue
    const value = Number(row.value)
    const [low, high] = SETTING_BOUNDS[key]
    if (Number.isSafeInteger(value) && value >= low && value <= high) settings[key] = value
  }
  return settings
}

/** The settings in force (cached for a few seconds). */
export async function paymentSettings(client?: QueryClientContract): Promise<PaymentSettings> {
  if (cached && Date.now() - cached.at < CACHE_MS) return cached.settings
  const rows = await (client ?? db.connection()).from('payment_settings').select('key', 'value')
  cached = { settings: parse(rows), at: Date.now() }
  return cached.settings
}

export function forgetPaymentSettings() {
  cached = null
}

/** Stores the given settings (already validated) and answers the settings before and after. */
export async function savePaymentSettings(
  changes: Partial<PaymentSettings>
): Promise<{ before: PaymentSettings; after: PaymentSettings }> {
  forgetPaymentSettings()
  const before = await paymentSettings()
  await db.transaction(async (trx) => {
    const now = dbTime(trx)
    for (const key of PAYMENT_SETTING_KEYS) {
      const value = changes[key]
      if (value === undefined) continue
      await trx
        .insertQuery()
        .table('payment_settings')
        .insert({ key, value: String(value), updated_at: now })
        .onConflict('key')
        .merge(['value', 'updated_at'])
    }
  })
  forgetPaymentSettings()
  return { before, after: await paymentSettings() }
}
