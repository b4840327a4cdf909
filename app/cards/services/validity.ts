import { DateTime } from 'luxon'
import { fail, ok, type Result } from '#core/services/result'

/**
 * How long a card of a type is valid. The rule is chosen per type; the
 * dates are computed once, when a card is issued, and stored on the card.
 *
 * - none: no end (staff, teachers, alumni).
 * - fixed_date: until the end of one day (a course that ends on a known date).
 * - years: a number of years from issue.
 * - graduation: until the holder's expected graduation date plus some grace
 *   days, which leaves the nightly upgrade time to issue the alumni card
 *   before the student card expires. Without a date, no end.
 * - window: a start and an end chosen at issuance (temporary and visitor cards),
 *   at most maxDays long.
 */
export type ValidityRule =
  | { kind: 'none' }
  | { kind: 'fixed_date'; until: string }
  | { kind: 'years'; years: number }
  | { kind: 'graduation'; graceDays: number }
  | { kind: 'window'; maxDays: number }

export const VALIDITY_KINDS = ['none', 'fixed_date', 'years', 'graduation', 'window'] as const
export type ValidityKind = (typeof VALIDITY_KINDS)[number]

export const LIMITS = {
  years: { min: 1, max: 20 },
  graceDays: { min: 0, max: 365 },
  maxDays: { min: 1, max: 3660 },
} as const

export type ValidityRuleError = 'validity_kind' | 'validity_date' | 'validity_number'

export interface ValidityRuleInput {
  kind?: string | null
  until?: string | null
  years?: number | string | null
  graceDays?: number | string | null
  maxDays?: number | string | null
}

function integerIn(value: unknown, range: { min: number; max: number }): number | null {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number)) return null
  return number >= range.min && number <= range.max ? number : null
}

/** Checks and normalizes a rule from a form or a stored document. */
export function checkValidityRule(
  input: ValidityRuleInput
): Result<ValidityRule, ValidityRuleError> {
  switch (input.kind) {
    case 'none':
      return ok({ kind: 'none' })
    case 'fixed_date': {
      const date = DateTime.fromISO(String(input.until ?? ''), { zone: 'utc' })
      if (!/^\d{4}-\d{2}-\d{2}$/.test(String(input.until ?? '')) || !date.isValid)
        return fail('validity_date')
      return ok({ kind: 'fixed_date', until: date.toISODate()! })
    }
    case 'years': {
      const years = integerIn(input.years, LIMITS.years)
      return years === null ? fail('validity_number') : ok({ kind: 'years', years })
    }
    case 'graduation': {
      const graceDays = integerIn(input.graceDays ?? 0, LIMITS.graceDays)
      return graceDays === null ? fail('validity_number') : ok({ kind: 'graduation', graceDays })
    }
    case 'window': {
      const maxDays = integerIn(input.maxDays, LIMITS.maxDays)
      return maxDays === null ? fail('validity_number') : ok({ kind: 'window', maxDays })
    }
    default:
      return fail('validity_kind')
  }
}

/** Reads a stored rule; a damaged one reads as "no end" rather than failing every page. */
export function readValidityRule(stored: string | ValidityRule): ValidityRule {
  try {
    const value = typeof stored === 'string' ? JSON.parse(stored) : stored
    const checked = checkValidityRule(value ?? {})
    return checked.ok ? checked.value : { kind: 'none' }
  } catch {
    return { kind: 'none' }
  }
}

export type ValidityError =
  'window_required' | 'window_invalid' | 'window_too_long' | 'window_ended' | 'validity_passed'

export interface ValidityContext {
  now: DateTime
  /** The school's time zone: dates mean the end of that day there. */
  zone: string
  expectedGraduationDate?: DateTime | null
  /** The start and end chosen at issuance (window rules only). */
  window?: { from: DateTime; until: DateTime } | null
}

/** The validity of a card issued now under `rule`. */
export function computeValidity(
  rule: ValidityRule,
  context: ValidityContext
): Result<{ validFrom: DateTime; validUntil: DateTime | null }, ValidityError> {
  const now = context.now.toUTC().set({ millisecond: 0 })
  const endOfDay = (date: DateTime) =>
    DateTime.fromObject(
      { year: date.year, month: date.month, day: date.day },
      { zone: context.zone }
    )
      .endOf('day')
      .set({ millisecond: 0 })
      .toUTC()
  switch (rule.kind) {
    case 'none':
      return ok({ validFrom: now, validUntil: null })
    case 'fixed_date': {
      const until = endOfDay(DateTime.fromISO(rule.until, { zone: context.zone }))
      return until <= now ? fail('validity_passed') : ok({ validFrom: now, validUntil: until })
    }
    case 'years':
      return ok({ validFrom: now, validUntil: now.plus({ years: rule.years }) })
    case 'graduation': {
      const date = context.expectedGraduationDate
      if (!date) return ok({ validFrom: now, validUntil: null })
      const until = endOfDay(date.plus({ days: rule.graceDays }))
      return until <= now ? fail('validity_passed') : ok({ validFrom: now, validUntil: until })
    }
    case 'window': {
      const window = context.window
      if (!window) return fail('window_required')
      const from = window.from.toUTC().set({ millisecond: 0 })
      const until = window.until.toUTC().set({ millisecond: 0 })
      if (!from.isValid || !until.isValid || until <= from) return fail('window_invalid')
      if (until <= now) return fail('window_ended')
      if (until.diff(from, 'days').days > rule.maxDays) return fail('window_too_long')
      return ok({ validFrom: from, validUntil: until })
    }
  }
}
