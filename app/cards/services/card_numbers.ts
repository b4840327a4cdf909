import { randomInt } from 'node:crypto'

/**
 * Card numbers: twelve digits, the year of issue (two digits), nine random
 * digits and a Luhn check digit. Random, so that knowing one card number
 * tells nothing about the next; the check digit catches a mistyped number
 * at the counter before any lookup.
 */

export const CARD_NO_LENGTH = 12

/** The Luhn check digit of a string of digits. */
export function luhnDigit(digits: string): number {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i])
    if (i % 2 === 0) {
      digit *= 2
      if (digit > 9) digit -= 9
    }
    sum += digit
  }
  return (10 - (sum % 10)) % 10
}

/** A new random card number for a card issued in `year` (UTC). */
export function newCardNo(year = new Date().getUTCFullYear()): string {
  const body = String(year % 100).padStart(2, '0') + String(randomInt(0, 1e9)).padStart(9, '0')
  return body + luhnDigit(body)
}

/** True for twelve digits whose last is the Luhn check digit of the others. */
export function isCardNo(value: string): boolean {
  if (!/^\d{12}$/.test(value)) return false
  return luhnDigit(value.slice(0, -1)) === Number(value.at(-1))
}

/** A typed card number without spaces and dashes ("2601 2345 6789" → "260123456789"). */
export function compactCardNo(value: string): string {
  return value.replace(/[\s-]+/g, '')
}

/** Grouped by four for reading aloud and printing. */
export function formatCardNo(value: string): string {
  return value.replace(/(\d{4})(?=\d)/g, '$1 ')
}
