import db from '@adonisjs/lucid/services/db'
import type Merchant from '#merchants/models/merchant'
import Shop from '#merchants/models/shop'
import { dayWindow, daysBetween, todayIn, type DayWindow } from '#reports/services/periods'
import { sumTakings, takingsIn, type Takings } from '#reports/services/settlement'
import { DateTime } from 'luxon'

/** Days the mobile report shows, today included. */
export const REPORT_DAYS = 7

export interface ShopDay {
  shopId: number | null
  name: string
  takings: Takings
}

export interface ReportDay {
  day: string
  total: Takings
  shops: ShopDay[]
}

/**
 * A merchant's sales, refunds and net per shop for today and the days
 * before it, newest first, live from the ledger (not from statements).
 */
export async function merchantReport(merchant: Merchant, zone: string, locale: string) {
  const today = todayIn(zone)
  const first = DateTime.fromISO(today)
    .minus({ days: REPORT_DAYS - 1 })
    .toISODate()!
  const shops = await Shop.query().where('merchant_id', merchant.id).orderBy('id')
  const nameOf = (shopId: number | null) => {
    const shop = shops.find((candidate) => candidate.id === shopId)
    if (!shop) return null
    return locale.startsWith('zh') || !shop.nameEn ? shop.name : shop.nameEn
  }
  const days: ReportDay[] = []
  for (const day of daysBetween(first, today).reverse()) {
    const window = dayWindow(day, zone) as DayWindow
    const takings = await takingsIn(db.connection(), window, merchant.id)
    days.push({
      day,
      total: sumTakings(merchant.id, takings),
      shops: takings
        .map((entry) => ({
          shopId: entry.shopId,
          name: nameOf(entry.shopId) ?? '—',
          takings: entry,
        }))
        .sort((a, b) => b.takings.net - a.takings.net),
    })
  }
  return {
    today: days[0],
    days,
    week: sumTakings(
      merchant.id,
      days.map((entry) => entry.total)
    ),
    chart: {
      labels: [...days].reverse().map((entry) => entry.day.slice(5)),
      values: [...days].reverse().map((entry) => entry.total.net / 100),
    },
  }
}
