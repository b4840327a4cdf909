import { DateTime } from 'luxon'

/**
 * The rules a person's contact and identity data must follow, shared by the
 * console form, imports, directory sync and the integration API: each check
 * returns the normalized value or an error code that every adapter
 * translates into its own language and format.
 */

export const ID_DOC_TYPES = [
  'resident_id',
  'passport',
  'hk_macao_permit',
  'taiwan_permit',
  'other',
] as const

export type IdDocType = (typeof ID_DOC_TYPES)[number]

export type IdNumberError = 'id_format' | 'id_region' | 'id_birth_date' | 'id_check_digit'

export type PhoneError = 'phone_format'

export type Checked<T, E extends string> = { ok: true; value: T } | { ok: false; error: E }

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK_CHARACTERS = '10X98765432'

/**
 * Province-level codes that begin a resident ID number, plus 81/82/83 for
 * residence permits of Hong Kong, Macao and Taiwan residents.
 */
const REGIONS = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
  53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
])

/** The GB 11643 check character of the first 17 digits of a resident ID number. */
export function gb11643CheckCharacter(first17: string): string {
  let sum = 0
  for (let index = 0; index < 17; index++) sum += Number(first17[index]) * WEIGHTS[index]
  return CHECK_CHARACTERS[sum % 11]
}

/**
 * Checks a mainland resident ID number (GB 11643-1999): 18 characters, a
 * known region, a real birth date not in the future, and the check character.
 */
export function checkResidentId(
  raw: string,
  today: DateTime = DateTime.utc()
): Checked<string, IdNumberError> {
  const value = raw.replace(/\s+/g, '').toUpperCase()
  if (!/^\d{17}[\dX]$/.test(value)) return { ok: false, error: 'id_format' }
  if (!REGIONS.has(Number(value.slice(0, 2)))) return { ok: false, error: 'id_region' }
  const birth = DateTime.fromFormat(value.slice(6, 14), 'yyyyMMdd', { zone: 'utc' })
  if (!birth.isValid || birth.year < 1900 || birth > today) {
    return { ok: false, error: 'id_birth_date' }
  }
  if (gb11643CheckCharacter(value) !== value[17]) return { ok: false, error: 'id_check_digit' }
  return { ok: true, value }
}

/**
 * Normalizes and checks an ID document number of the given type. Resident
 * IDs follow GB 11643; other documents are 5–20 letters and digits, since
 * passports and permits of many countries share no stricter pattern.
 */
export function checkIdDocNumber(type: IdDocType, raw: string): Checked<string, IdNumberError> {
  if (type === 'resident_id') return checkResidentId(raw)
  const value = raw.replace(/[\s-]+/g, '').toUpperCase()
  if (!/^[A-Z0-9]{5,20}$/.test(value)) return { ok: false, error: 'id_format' }
  return { ok: true, value }
}

/**
 * Normalizes and checks a phone number. Accepted: a mainland mobile
 * (1[3-9] and nine digits, "+86" or "86" in front is dropped), a mainland
 * landline with its area code (0 and 9–11 more digits), or an international
 * number in E.164 form ("+" and 7–15 digits). Spaces, dashes, dots and
 * brackets are ignored.
 */
export function checkPhone(raw: string): Checked<string, PhoneError> {
  const compact = raw.replace(/[\s\-().]+/g, '')
  const mobile = /^(?:\+?86)?(1[3-9]\d{9})$/.exec(compact)
  if (mobile) return { ok: true, value: mobile[1] }
  if (/^0\d{9,11}$/.test(compact)) return { ok: true, value: compact }
  if (/^\+[1-9]\d{6,14}$/.test(compact)) return { ok: true, value: compact }
  return { ok: false, error: 'phone_format' }
}

/** The most tags one person carries. */
export const MAX_TAGS = 20

/** The longest tag name. */
export const MAX_TAG_LENGTH = 32

export type TagError = 'tag_too_long' | 'too_many_tags'

/**
 * Normalizes a list of tag names: trimmed, inner whitespace collapsed,
 * duplicates and empty names dropped, first spelling kept.
 */
export function checkTags(raw: readonly string[]): Checked<string[], TagError> {
  const seen = new Set<string>()
  const tags: string[] = []
  for (const entry of raw) {
    const name = entry.replace(/\s+/g, ' ').trim()
    if (!name || seen.has(name)) continue
    if ([...name].length > MAX_TAG_LENGTH) return { ok: false, error: 'tag_too_long' }
    seen.add(name)
    tags.push(name)
  }
  if (tags.length > MAX_TAGS) return { ok: false, error: 'too_many_tags' }
  return { ok: true, value: tags }
}

/** Splits the tags text of a form or a spreadsheet cell ("a, b；c") into names. */
export function splitTags(text: string | null | undefined): string[] {
  if (!text) return []
  return text.split(/[,，;；、\n]+/)
}
