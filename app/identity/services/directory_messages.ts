import type { I18n } from '@adonisjs/i18n'
import type { EntryError, InvalidRow, RunProblem } from '#identity/services/directory_diff'

/**
 * The words of directory sync results in the reader's language, shared by
 * the console pages and the ace command (each passes its own I18n).
 */

type Translator = Pick<I18n, 't' | 'hasMessage'>

/** The label of a person field, as the diff and the errors name it. */
export function fieldLabel(field: string, i18n: Translator): string {
  const key = `directory.person_fields.${field}`
  return i18n.hasMessage(key) ? i18n.t(key) : field
}

/** One reason an entry was not synced, with its attribute and value. */
export function entryErrorMessage(error: EntryError, i18n: Translator): string {
  const params = { ...error.params, field: fieldLabel(error.field, i18n) }
  const own = `directory.errors.${error.code}`
  if (i18n.hasMessage(own)) return i18n.t(own, params)
  const registry = `identity.people.errors.${error.code}`
  if (i18n.hasMessage(registry)) return `${params.field}: ${i18n.t(registry, params)}`
  return `${params.field}: ${error.code}`
}

export function invalidRowMessages(row: InvalidRow, i18n: Translator): string[] {
  return row.errors.map((error) => entryErrorMessage(error, i18n))
}

/** Why a run was blocked or failed, and what the server said (if anything). */
export function problemMessage(
  problem: RunProblem,
  i18n: Translator
): { message: string; detail: string | null } {
  const key = `directory.problems.${problem.code}`
  const message = i18n.hasMessage(key) ? i18n.t(key, problem.params ?? {}) : problem.code
  return {
    message,
    detail: problem.detail ? i18n.t('directory.server_said', { detail: problem.detail }) : null,
  }
}

const ENUM_PREFIXES: Record<string, string> = {
  status: 'identity.statuses',
  gender: 'identity.genders',
  identityType: 'identity.identity_types',
}

/** A before or after value of a changed field, as the person page would show it. */
export function changeValue(field: string, value: unknown, i18n: Translator): string {
  if (value === null || value === undefined || value === '') return i18n.t('directory.empty_value')
  const prefix = ENUM_PREFIXES[field]
  if (prefix && i18n.hasMessage(`${prefix}.${value}`)) return i18n.t(`${prefix}.${value}`)
  return Array.isArray(value) ? value.join(', ') : String(value)
}
