import db from '@adonisjs/lucid/services/db'
import i18nManager from '@adonisjs/i18n/services/main'
import type Person from '#identity/models/person'
import { GENDERS, IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'
import { searchPeople, type PeopleFilters } from '#identity/services/people_directory'
import { ID_DOC_TYPES } from '#identity/services/person_rules'
import { decryptPii } from '#identity/services/pii'
import { PEOPLE_COLUMNS, type ValueLabels } from '#identity/services/import_people'

/**
 * The people spreadsheet going out: exports and the template use the
 * columns and value labels the importer reads, so that an export imports
 * back unchanged.
 */

/** The columns an export writes; the status reason is for imports only. */
const EXPORTED = PEOPLE_COLUMNS.filter((column) => column.key !== 'status_reason')

/** The labels of every enum value in both languages, for reading cells. */
export function valueLabels(): ValueLabels {
  const labels = (prefix: string, values: readonly string[]) =>
    Object.fromEntries(
      values.map((value) => [
        value,
        i18nManager
          .supportedLocales()
          .map((locale) => i18nManager.locale(locale).t(`${prefix}.${value}`)),
      ])
    )
  return {
    gender: labels('identity.genders', GENDERS),
    identityType: labels('identity.identity_types', IDENTITY_TYPES),
    status: labels('identity.statuses', PERSON_STATUSES),
    idDocType: labels('identity.id_doc_types', ID_DOC_TYPES),
  }
}

/** The header row in the user's language: Chinese, or the English column keys. */
export function peopleHeaders(locale: string): string[] {
  return EXPORTED.map((column) => (locale.startsWith('zh') ? column.headers[0] : column.headers[1]))
}

/** The template's example row. */
export function exampleRow(locale: string): string[] {
  const t = (key: string) => i18nManager.locale(locale).t(key)
  const example: Record<string, string> = {
    person_no: 'S2025001',
    name: locale.startsWith('zh') ? '张三' : 'Zhang San',
    gender: t('identity.genders.male'),
    identity_type: t('identity.identity_types.undergraduate'),
    status: t('identity.statuses.active'),
    org_unit_code: 'C04-2501',
    enrollment_year: '2025',
    expected_graduation_date: '2029-06-30',
    phone: '13800138000',
    email: 'zhangsan@example.edu.cn',
    id_doc_type: t('identity.id_doc_types.resident_id'),
    id_doc_number: '11010519491231002X',
    tags: locale.startsWith('zh') ? '住校' : 'boarder',
  }
  return EXPORTED.map((column) => example[column.key] ?? '')
}

export interface ExportOptions {
  locale: string
  /** Full phone and ID numbers instead of the masked ones. */
  revealPii: boolean
}

function personRow(person: Person, tags: string[], options: ExportOptions): string[] {
  const t = (key: string) => i18nManager.locale(options.locale).t(key)
  const values: Record<string, string> = {
    person_no: person.personNo,
    name: person.name,
    gender: t(`identity.genders.${person.gender}`),
    identity_type: t(`identity.identity_types.${person.identityType}`),
    status: t(`identity.statuses.${person.status}`),
    org_unit_code: person.orgUnit.code,
    enrollment_year: person.enrollmentYear === null ? '' : String(person.enrollmentYear),
    expected_graduation_date: person.expectedGraduationDate?.toISODate() ?? '',
    phone: options.revealPii
      ? person.phoneCiphertext
        ? decryptPii('phone', person.phoneCiphertext)
        : ''
      : (person.phoneMasked ?? ''),
    email: person.email ?? '',
    id_doc_type: person.idDocType ? t(`identity.id_doc_types.${person.idDocType}`) : '',
    id_doc_number: options.revealPii
      ? person.idDocCiphertext
        ? decryptPii('id_doc_number', person.idDocCiphertext)
        : ''
      : (person.idDocMasked ?? ''),
    tags: tags.join(', '),
  }
  return EXPORTED.map((column) => values[column.key])
}

/** Every person matching the people list's filters, as spreadsheet rows, in pages of 1,000. */
export async function exportPeopleRows(
  filters: PeopleFilters,
  options: ExportOptions
): Promise<{ headers: string[]; rows: string[][] }> {
  const rows: string[][] = []
  for (let page = 1; ; page++) {
    const paginator = await searchPeople(filters, page, 1000)
    const people = paginator.all()
    const tagRows = people.length
      ? await db
          .from('person_tags')
          .join('tags', 'tags.id', 'person_tags.tag_id')
          .whereIn(
            'person_tags.person_id',
            people.map((person) => person.id)
          )
          .orderBy('tags.name')
          .select('person_tags.person_id', 'tags.name')
      : []
    const tagsOf = new Map<number, string[]>()
    for (const row of tagRows) {
      const list = tagsOf.get(Number(row.person_id)) ?? []
      list.push(row.name)
      tagsOf.set(Number(row.person_id), list)
    }
    for (const person of people) rows.push(personRow(person, tagsOf.get(person.id) ?? [], options))
    if (!paginator.hasMorePages) break
  }
  return { headers: peopleHeaders(options.locale), rows }
}
