/**
 * Checks and normalizes the pieces of access rules that the console and
 * other callers send: weekly windows, holiday hours, dates.
 */
import { DateTime } from 'luxon'
import { fail, ok, type Result } from '#core/services/result'
import {
  minutesOf,
  type DayWindow,
  type TimeWindow,
  type Weekday,
} from '#access/services/access_decision'

/** Windows one group or holiday may list. */
export const MAX_WINDOWS = 14

export const WEEKDAYS: readonly Weekday[] = [1, 2, 3, 4, 5, 6, 7]

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** "6:00" → "06:00"; anything not a time → null. */
function normalTime(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const match = /^(\d{1,2}):(\d{2})$/.exec(value.trim())
  if (!match) return null
  const text = `${match[1].padStart(2, '0')}:${match[2]}`
  return minutesOf(text) === null ? null : text
}

function dayWindow(input: { from?: unknown; to?: unknown }): DayWindow | null {
  const from = normalTime(input.from)
  const to = normalTime(input.to)
  if (!from || !to || from === to || from === '24:00') return null
  return { from, to }
}

/**
 * Weekly windows from any source; rows with neither days nor times are
 * dropped (blank form rows). A window needs at least one day, two
 * different times, and from before 24:00.
 */
export function accessWindows(input: unknown): Result<TimeWindow[], 'windows_invalid'> {
  if (!Array.isArray(input)) return fail('windows_invalid')
  const windows: TimeWindow[] = []
  for (const [index, raw] of input.entries()) {
    if (!raw || typeof raw !== 'object') return fail('windows_invalid', { row: index + 1 })
    const row = raw as { days?: unknown; from?: unknown; to?: unknown }
    const days = (Array.isArray(row.days) ? row.days : row.days === undefined ? [] : [row.days])
      .map(Number)
      .filter((day) => (WEEKDAYS as number[]).includes(day)) as Weekday[]
    const blank =
      days.length === 0 && !String(row.from ?? '').trim() && !String(row.to ?? '').trim()
    if (blank) continue
    const hours = dayWindow(row)
    if (!hours || days.length === 0) return fail('windows_invalid', { row: index + 1 })
    windows.push({ days: [...new Set(days)].sort(), ...hours })
  }
  if (windows.length > MAX_WINDOWS) return fail('windows_invalid', { max: MAX_WINDOWS })
  return ok(windows)
}

/** Hours of a holiday that replaces the windows; blank rows dropped. */
export function holidayWindows(input: unknown): Result<DayWindow[], 'windows_invalid'> {
  if (!Array.isArray(input)) return fail('windows_invalid')
  const windows: DayWindow[] = []
  for (const [index, raw] of input.entries()) {
    const row = (raw ?? {}) as { from?: unknown; to?: unknown }
    if (!String(row.from ?? '').trim() && !String(row.to ?? '').trim()) continue
    const hours = dayWindow(row)
    if (!hours) return fail('windows_invalid', { row: index + 1 })
    windows.push(hours)
  }
  if (windows.length > MAX_WINDOWS) return fail('windows_invalid', { max: MAX_WINDOWS })
  return ok(windows)
}

/** A real calendar date written YYYY-MM-DD. */
export function isCalendarDate(value: unknown): value is string {
  return typeof value === 'string' && DATE.test(value) && DateTime.fromISO(value).isValid
}

/** Windows in words, one per line: "一 二 三 06:00–23:30". */
export function describeWindows(
  windows: TimeWindow[],
  dayName: (day: Weekday) => string
): string[] {
  return windows.map(
    (window) => `${window.days.map(dayName).join(' ')} ${window.from}–${window.to}`
  )
}
