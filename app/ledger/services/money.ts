import { fail, ok, type Result } from '#core/services/result'

/**
 * Amounts are integer fen held in a JS number. A number is exact for every
 * integer up to Number.MAX_SAFE_INTEGER (9,007,199,254,740,991 fen, about
 * ¥90 trillion), seven orders of magnitude above anything a school books, and
 * unlike bigint it passes through JSON, Vine, Edge and both database drivers
 * without conversion. The price is a check at every boundary: whatever comes
 * from the database, a form or arithmetic must be a safe integer, or it throws
 * (an unexpected failure: the books would otherwise be silently wrong).
 */

/** Largest amount, in fen, that Quad accepts anywhere. */
export const MAX_FEN = Number.MAX_SAFE_INTEGER

/** True when the value is an integer amount of fen that arithmetic keeps exact. */
export function isFen(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value)
}

/** Throws unless the value is a safe integer amount of fen. */
export function assertFen(value: unknown, what = 'amount'): asserts value is number {
  if (!isFen(value)) throw new RangeError(`${what} is not a safe integer amount of fen: ${value}`)
}

/**
 * An amount as a database driver returns it: PostgreSQL gives bigint and
 * numeric (SUM) as strings, SQLite as numbers. Anything that is not an exact
 * integer within the safe range throws.
 */
export function fenFromDb(value: unknown): number {
  if (value === null || value === undefined) return 0
  if (typeof value === 'number') {
    assertFen(value, 'stored amount')
    return value
  }
  if (typeof value === 'bigint') {
    if (value > BigInt(MAX_FEN) || value < -BigInt(MAX_FEN))
      throw new RangeError(`stored amount out of range: ${value}`)
    return Number(value)
  }
  const text = String(value)
  if (!/^-?\d+$/.test(text)) throw new RangeError(`stored amount is not an integer: ${text}`)
  const parsed = Number(text)
  assertFen(parsed, 'stored amount')
  return parsed
}

/** a + b, refusing to leave the exact range. */
export function addFen(a: number, b: number): number {
  const sum = a + b
  assertFen(sum, 'sum')
  return sum
}

/** The sum of amounts, checked at every step. */
export function sumFen(values: Iterable<number>): number {
  let total = 0
  for (const value of values) total = addFen(total, value)
  return total
}

export type MoneyParseError = 'amount_invalid' | 'amount_precision' | 'amount_too_large'

/** Digits before the point: 13 keeps every parsed value inside the safe range. */
const MAX_YUAN_DIGITS = 13

/** "1234567" → "1,234,567" */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * An amount of money in fen. Immutable; arithmetic returns new values and
 * throws if a result would leave the exact integer range.
 */
export class Money {
  private constructor(readonly fen: number) {}

  static readonly ZERO = new Money(0)

  /** Money from integer fen (1250 is ¥12.50). Throws on anything else. */
  static ofFen(fen: number): Money {
    assertFen(fen)
    // -0 and 0 are the same amount.
    return new Money(fen === 0 ? 0 : fen)
  }

  /**
   * Parses yuan as typed in a form: "12", "12.5", "12.50", "-3.00", "0.01".
   * Nothing else: no currency sign, no thousands separators, no exponent,
   * no leading zeros, no spaces, no third decimal; a string of digits is never
   * run through floating point.
   */
  static parse(text: string): Result<Money, MoneyParseError> {
    if (typeof text !== 'string') return fail('amount_invalid')
    const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text)
    if (!match) return fail('amount_invalid')
    const [, minus, whole, decimals] = match
    if (whole.length > 1 && whole.startsWith('0')) return fail('amount_invalid')
    if (decimals !== undefined && decimals.length > 2) return fail('amount_precision')
    if (whole.length > MAX_YUAN_DIGITS) return fail('amount_too_large')
    const fen = Number(whole) * 100 + Number((decimals ?? '').padEnd(2, '0'))
    return ok(Money.ofFen(minus ? -fen : fen))
  }

  plus(other: Money): Money {
    return Money.ofFen(addFen(this.fen, other.fen))
  }

  minus(other: Money): Money {
    return Money.ofFen(addFen(this.fen, -other.fen))
  }

  negate(): Money {
    return Money.ofFen(-this.fen)
  }

  isZero() {
    return this.fen === 0
  }

  isPositive() {
    return this.fen > 0
  }

  isNegative() {
    return this.fen < 0
  }

  equals(other: Money) {
    return this.fen === other.fen
  }

  compare(other: Money): -1 | 0 | 1 {
    return this.fen < other.fen ? -1 : this.fen > other.fen ? 1 : 0
  }

  /** Yuan with two decimals and no grouping: "1234.50", "-0.05". For forms and CSV. */
  toDecimal(): string {
    const sign = this.fen < 0 ? '-' : ''
    const abs = Math.abs(this.fen)
    return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
  }

  /**
   * For people: "¥1,234.50", "-¥0.05". Chinese and English readers both
   * write the yuan this way (Intl's English "CN¥" is not what a Chinese
   * school prints), so the locale does not change it.
   */
  format(_locale: string = 'zh-CN', options: { signed?: boolean } = {}): string {
    const abs = Math.abs(this.fen)
    const text = `¥${groupThousands(String(Math.trunc(abs / 100)))}.${String(abs % 100).padStart(2, '0')}`
    if (this.fen < 0) return `-${text}`
    return options.signed && this.fen > 0 ? `+${text}` : text
  }

  toString() {
    return this.format()
  }

  /** Serialized as integer fen: the unit every API of Quad speaks. */
  toJSON() {
    return this.fen
  }
}

/** Shorthand for views and CSV: fen → "¥1,234.50". */
export function formatFen(fen: number, locale = 'zh-CN', options: { signed?: boolean } = {}) {
  return Money.ofFen(fen).format(locale, options)
}
