import { DateTime } from 'luxon'
import { currentSchool } from '#appliance/services/school_settings'

/** The school's time zone: every day in a report or statement is a day of this zone. */
export async function reportZone(): Promise<string> {
  const school = await currentSchool()
  return school?.timeZone ?? 'Asia/Shanghai'
}

/** One day of the school's calendar as a half-open UTC interval. */
export interface DayWindow {
  /** yyyy-MM-dd in `zone`. */
  day: string
  zone: string
  from: DateTime
  to: DateTime
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** The window of a day, or null when the text is not a real day. */
export function dayWindow(day: string, zone: string): DayWindow | null {
  if (typeof day !== 'string' || !DAY.test(day)) return null
  const from = DateTime.fromISO(day, { zone }).startOf('day')
  if (!from.isValid || from.toISODate() !== day) return null
  return { day, zone, from: from.toUTC(), to: from.plus({ days: 1 }).toUTC() }
}

/** Today in the zone. */
export function todayIn(zone: string, now: DateTime = DateTime.utc()): string {
  return now.setZone(zone).toISODate()!
}

/** The day before `day`. */
export function dayBefore(day: string): string {
  return DateTime.fromISO(day).minus({ days: 1 }).toISODate()!
}

/** Days from `first` to `last`, both included, oldest first. */
export function daysBetween(first: string, last: string): string[] {
  const days: string[] = []
  let cursor = DateTime.fromISO(first)
  const end = DateTime.fromISO(last)
  while (cursor <= end) {
    days.push(cursor.toISODate()!)
    cursor = cursor.plus({ days: 1 })
  }
  return days
}

/** A month "yyyy-MM" as a half-open UTC interval in the zone, or null. */
export function monthWindow(month: string, zone: string): { from: DateTime; to: DateTime } | null {
  if (typeof month !== 'string' || !/^\d{4}-\d{2}$/.test(month)) return null
  const from = DateTime.fromISO(`${month}-01`, { zone }).startOf('month')
  if (!from.isValid) return null
  return { from: from.toUTC(), to: from.plus({ months: 1 }).toUTC() }
}
