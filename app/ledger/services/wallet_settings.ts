/**
 * The school's wallet settings: the order in which wallets pay, the meal
 * windows vouchers are good for, and whether (and how far) holders may move
 * cash to another holder's card. Stored as rows of `wallet_settings` and
 * cached in the process; every write goes through `saveWalletSettings`,
 * which forgets the cache.
 */
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { dbTime } from '#ledger/services/accounts'

export type SpendingWallet = 'subsidy' | 'voucher' | 'cash'

export const SPENDING_WALLETS: readonly SpendingWallet[] = ['subsidy', 'voucher', 'cash']

export const MEALS = ['breakfast', 'lunch', 'dinner'] as const
export type Meal = (typeof MEALS)[number]

export interface MealWindow {
  meal: Meal
  /** Minutes after midnight, school time; `from` inclusive, `to` exclusive. */
  from: number
  to: number
}

export interface CardToCardSettings {
  enabled: boolean
  /** Fen per transfer. */
  maxPerTransfer: number
  /** Fen per sender per day (school time). */
  maxPerDay: number
}

export interface WalletSettings {
  spendingOrder: SpendingWallet[]
  mealWindows: MealWindow[]
  cardToCard: CardToCardSettings
}

export const DEFAULT_WALLET_SETTINGS: WalletSettings = {
  spendingOrder: ['subsidy', 'voucher', 'cash'],
  mealWindows: [
    { meal: 'breakfast', from: 6 * 60 + 30, to: 9 * 60 + 30 },
    { meal: 'lunch', from: 11 * 60, to: 13 * 60 + 30 },
    { meal: 'dinner', from: 17 * 60, to: 19 * 60 + 30 },
  ],
  cardToCard: { enabled: false, maxPerTransfer: 50_000, maxPerDay: 100_000 },
}

let cached: WalletSettings | null = null
let cachedAt = 0

/** Another process's change (the console's, seen by a worker) is picked up within this. */
const CACHE_MS = 30_000

/** True when the order names each wallet exactly once. */
export function isSpendingOrder(value: unknown): value is SpendingWallet[] {
  return (
    Array.isArray(value) &&
    value.length === SPENDING_WALLETS.length &&
    SPENDING_WALLETS.every((wallet) => value.includes(wallet))
  )
}

function isMealWindows(value: unknown): value is MealWindow[] {
  return (
    Array.isArray(value) &&
    value.every(
      (window) =>
        window &&
        (MEALS as readonly string[]).includes(window.meal) &&
        Number.isInteger(window.from) &&
        Number.isInteger(window.to) &&
        window.from >= 0 &&
        window.to <= 24 * 60 &&
        window.from < window.to
    )
  )
}

function isCardToCard(value: unknown): value is CardToCardSettings {
  const settings = value as CardToCardSettings
  return (
    !!settings &&
    typeof settings.enabled === 'boolean' &&
    Number.isSafeInteger(settings.maxPerTransfer) &&
    settings.maxPerTransfer > 0 &&
    Number.isSafeInteger(settings.maxPerDay) &&
    settings.maxPerDay > 0
  )
}

/** The settings, defaults filling in what was never saved (or no longer parses). */
export async function walletSettings(
  client: QueryClientContract = db.connection()
): Promise<WalletSettings> {
  if (cached && Date.now() - cachedAt < CACHE_MS) return cached
  const rows = await client.from('wallet_settings').select('key', 'value')
  const stored = new Map<string, unknown>()
  for (const row of rows) {
    try {
      stored.set(row.key, JSON.parse(row.value))
    } catch {
      // A row that does not parse counts as unset.
    }
  }
  const order = stored.get('spending_order')
  const windows = stored.get('meal_windows')
  const cardToCard = stored.get('card_to_card')
  const settings: WalletSettings = {
    spendingOrder: isSpendingOrder(order) ? order : DEFAULT_WALLET_SETTINGS.spendingOrder,
    mealWindows: isMealWindows(windows) ? windows : DEFAULT_WALLET_SETTINGS.mealWindows,
    cardToCard: isCardToCard(cardToCard) ? cardToCard : DEFAULT_WALLET_SETTINGS.cardToCard,
  }
  cached = settings
  cachedAt = Date.now()
  return settings
}

/** Saves the given settings (validated by the caller) and forgets the cache. */
export async function saveWalletSettings(
  client: QueryClientContract,
  changes: Partial<WalletSettings>
): Promise<void> {
  const entries: [string, unknown][] = []
  if (changes.spendingOrder) {
    if (!isSpendingOrder(changes.spendingOrder)) throw new Error('invalid spending order')
    entries.push(['spending_order', changes.spendingOrder])
  }
  if (changes.mealWindows) {
    if (!isMealWindows(changes.mealWindows)) throw new Error('invalid meal windows')
    entries.push(['meal_windows', changes.mealWindows])
  }
  if (changes.cardToCard) {
    if (!isCardToCard(changes.cardToCard)) throw new Error('invalid card-to-card settings')
    entries.push(['card_to_card', changes.cardToCard])
  }
  const now = dbTime(client)
  for (const [key, value] of entries) {
    await client
      .insertQuery()
      .table('wallet_settings')
      .insert({ key, value: JSON.stringify(value), updated_at: now })
      .onConflict('key')
      .merge(['value', 'updated_at'])
  }
  cached = null
}

/** Forgets the cached settings (tests, and another process's change). */
export function forgetWalletSettings() {
  cached = null
}
