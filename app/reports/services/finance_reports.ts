/**
 * The finance office's reports (docs/reports.md): top-ups by channel and
 * day, subsidies and vouchers issued and expired by day, and spending by
 * merchant category and merchant, over a range of the school's days.
 */
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { dbTime } from '#ledger/services/accounts'
import { addFen, fenFromDb } from '#ledger/services/money'
import Merchant from '#merchants/models/merchant'
import { daysBetween, todayIn } from '#reports/services/periods'
import { sumTakings, takingsIn } from '#reports/services/settlement'

/** The longest range a report covers, in days. */
export const MAX_RANGE_DAYS = 92
export const DEFAULT_RANGE_DAYS = 30

export interface ReportRange {
  first: string
  last: string
  zone: string
  days: string[]
  from: DateTime
  to: DateTime
}

export type RangeError = 'invalid_range' | 'range_too_long'

/** The range from `first` to `last` (both included); the last 30 days when neither is given. */
export function reportRange(
  zone: string,
  first?: string,
  last?: string
): { ok: true; value: ReportRange } | { ok: false; error: RangeError } {
  const today = todayIn(zone)
  const end = last ?? today
  const start =
    first ??
    DateTime.fromISO(end)
      .minus({ days: DEFAULT_RANGE_DAYS - 1 })
      .toISODate()
  const from = DateTime.fromISO(start ?? '', { zone }).startOf('day')
  const to = DateTime.fromISO(end, { zone }).startOf('day').plus({ days: 1 })
  if (!from.isValid || !to.isValid || from >= to) return { ok: false, error: 'invalid_range' }
  const days = daysBetween(from.toISODate()!, end)
  if (days.length > MAX_RANGE_DAYS) return { ok: false, error: 'range_too_long' }
  return {
    ok: true,
    value: { first: from.toISODate()!, last: end, zone, days, from: from.toUTC(), to: to.toUTC() },
  }
}

function bookedDay(value: unknown, zone: string): string {
  const time =
    value instanceof Date
      ? DateTime.fromJSDate(value, { zone: 'utc' })
      : DateTime.fromSQL(String(value), { zone: 'utc' })
  return time.setZone(zone).toISODate()!
}

async function transfersIn(range: ReportRange, kinds: string[]) {
  const client = db.connection()
  return client
    .from('ledger_transfers')
    .whereIn('kind', kinds)
    .where('booked_at', '>=', dbTime(client, range.from))
    .where('booked_at', '<', dbTime(client, range.to))
    .select('kind', 'amount', 'booked_at', 'metadata')
}

export interface DayAmount {
  count: number
  amount: number
}

const empty = (): DayAmount => ({ count: 0, amount: 0 })

function add(target: DayAmount, amount: number) {
  target.count += 1
  target.amount = addFen(target.amount, amount)
}

/** Top-ups per day and channel (the channel a top-up's transfer names; counter when none). */
export async function topUpsReport(range: ReportRange) {
  const rows = await transfersIn(range, ['top_up'])
  const channels = new Set<string>()
  const cells = new Map<string, DayAmount>()
  const byChannel = new Map<string, DayAmount>()
  const total = empty()
  for (const row of rows) {
    let channel = 'counter'
    try {
      const metadata = row.metadata ? JSON.parse(row.metadata) : null
      if (typeof metadata?.channel === 'string') channel = metadata.channel
    } catch {}
    channels.add(channel)
    const day = bookedDay(row.booked_at, range.zone)
    const amount = fenFromDb(row.amount)
    const key = `${day}|${channel}`
    if (!cells.has(key)) cells.set(key, empty())
    add(cells.get(key)!, amount)
    if (!byChannel.has(channel)) byChannel.set(channel, empty())
    add(byChannel.get(channel)!, amount)
    add(total, amount)
  }
  const channelList = [...channels].sort()
  return {
    channels: channelList,
    days: range.days.map((day) => ({
      day,
      cells: channelList.map((channel) => cells.get(`${day}|${channel}`) ?? empty()),
    })),
    byChannel: channelList.map((channel) => ({ channel, ...byChannel.get(channel)! })),
    total,
  }
}

const SUBSIDY_KINDS = {
  subsidy_issue: 'subsidy_issued',
  voucher_issue: 'voucher_issued',
  subsidy_expiry: 'subsidy_expired',
  voucher_expiry: 'voucher_expired',
} as const

export const SUBSIDY_COLUMNS = Object.values(SUBSIDY_KINDS)
export type SubsidyColumn = (typeof SUBSIDY_COLUMNS)[number]

/** Subsidy and voucher money issued and swept back at expiry, per day. */
export async function subsidiesReport(range: ReportRange) {
  const rows = await transfersIn(range, Object.keys(SUBSIDY_KINDS))
  const cells = new Map<string, DayAmount>()
  const totals = new Map<SubsidyColumn, DayAmount>(SUBSIDY_COLUMNS.map((c) => [c, empty()]))
  for (const row of rows) {
    const column = SUBSIDY_KINDS[row.kind as keyof typeof SUBSIDY_KINDS]
    const day = bookedDay(row.booked_at, range.zone)
    const amount = fenFromDb(row.amount)
    const key = `${day}|${column}`
    if (!cells.has(key)) cells.set(key, empty())
    add(cells.get(key)!, amount)
    add(totals.get(column)!, amount)
  }
  return {
    columns: SUBSIDY_COLUMNS,
    days: range.days.map((day) => ({
      day,
      cells: SUBSIDY_COLUMNS.map((column) => cells.get(`${day}|${column}`) ?? empty()),
    })),
    totals: SUBSIDY_COLUMNS.map((column) => ({ column, ...totals.get(column)! })),
  }
}

/** Payments, refunds and net per merchant and per merchant category over the range. */
export async function spendingReport(range: ReportRange, locale: string) {
  const takings = await takingsIn(db.connection(), range)
  const merchantIds = [...new Set(takings.map((entry) => entry.merchantId))]
  const merchants = merchantIds.length
    ? await Merchant.query().whereIn('id', merchantIds).orderBy('code')
    : []
  const byMerchant = merchants.map((merchant) => ({
    publicId: merchant.publicId,
    code: merchant.code,
    name: merchant.nameIn(locale),
    category: merchant.category,
    takings: sumTakings(
      merchant.id,
      takings.filter((entry) => entry.merchantId === merchant.id)
    ),
  }))
  byMerchant.sort((a, b) => b.takings.net - a.takings.net)
  const categories = [...new Set(byMerchant.map((entry) => entry.category))].sort()
  const byCategory = categories.map((category) => ({
    category,
    takings: sumTakings(
      0,
      byMerchant.filter((entry) => entry.category === category).map((entry) => entry.takings)
    ),
  }))
  return {
    byMerchant,
    byCategory,
    total: sumTakings(
      0,
      byMerchant.map((entry) => entry.takings)
    ),
  }
}
