import { GENDERS, IDENTITY_TYPES, type Gender, type IdentityType } from '#identity/models/person'
import type { PersonInput } from '#identity/actions/save_person'

/**
 * How the attributes of a directory entry become a person. Each field names
 * the attribute it is read from; identity type and org unit may instead (or
 * as a fallback for entries that lack the attribute) take a fixed value.
 * A mapped attribute that an entry lacks clears the optional field: the
 * directory is the truth for what it is mapped to. Leave a field unmapped
 * to let Quad keep it.
 */
export interface DirectoryMapping {
  personNo: string
  name: string
  gender: string | null
  /** Directory value (lower case) → gender. */
  genderValues: Record<string, Gender>
  identityType: string | null
  /** Directory value (lower case) → identity type. */
  identityTypeValues: Record<string, IdentityType>
  identityTypeFixed: IdentityType | null
  /** The attribute holding the org unit's code. */
  orgUnit: string | null
  orgUnitFixed: string | null
  email: string | null
  phone: string | null
  enrollmentYear: string | null
}

export const MAPPED_FIELDS = [
  'personNo',
  'name',
  'gender',
  'identityType',
  'orgUnit',
  'email',
  'phone',
  'enrollmentYear',
] as const

export type MappedField = (typeof MAPPED_FIELDS)[number]

export const DIRECTORY_KINDS = ['openldap', 'active_directory'] as const

export type DirectoryKind = (typeof DIRECTORY_KINDS)[number]

/** Settings a new source starts from, for the two kinds of server schools run. */
export interface DirectoryPreset {
  url: string
  searchFilter: string
  pageSize: number
  mapping: DirectoryMapping
}

/** Values of `employeeType` that schools commonly use. */
const COMMON_TYPE_VALUES: Record<string, IdentityType> = {
  student: 'undergraduate',
  undergraduate: 'undergraduate',
  graduate: 'postgraduate',
  postgraduate: 'postgraduate',
  faculty: 'teacher',
  teacher: 'teacher',
  staff: 'staff',
  employee: 'staff',
}

export const DIRECTORY_PRESETS: Record<DirectoryKind, DirectoryPreset> = {
  // inetOrgPerson: uid is the login name schools set to the person number.
  openldap: {
    url: 'ldap://ldap.example.edu.cn:389',
    searchFilter: '(objectClass=inetOrgPerson)',
    pageSize: 500,
    mapping: {
      personNo: 'uid',
      name: 'cn',
      gender: null,
      genderValues: {},
      identityType: 'employeeType',
      identityTypeValues: COMMON_TYPE_VALUES,
      identityTypeFixed: null,
      orgUnit: 'departmentNumber',
      orgUnitFixed: null,
      email: 'mail',
      phone: 'mobile',
      enrollmentYear: null,
    },
  },
  // Enabled user accounts that carry an employee ID; AD serves at most
  // 1000 entries a page (MaxPageSize), so pages stay below it.
  active_directory: {
    url: 'ldaps://dc.example.edu.cn:636',
    searchFilter:
      '(&(objectCategory=person)(objectClass=user)(employeeID=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))',
    pageSize: 500,
    mapping: {
      personNo: 'employeeID',
      name: 'displayName',
      gender: null,
      genderValues: {},
      identityType: 'employeeType',
      identityTypeValues: COMMON_TYPE_VALUES,
      identityTypeFixed: null,
      orgUnit: 'departmentNumber',
      orgUnitFixed: null,
      email: 'mail',
      phone: 'mobile',
      enrollmentYear: null,
    },
  },
}

/** Attribute names: a descriptor (letters, digits, hyphens) or a numeric OID. */
export const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]{0,63}|\d+(?:\.\d+){1,31})$/

/** The attributes a search must return for this mapping. */
export function mappedAttributes(mapping: DirectoryMapping): string[] {
  const names = MAPPED_FIELDS.map((field) => mapping[field]).filter(
    (name): name is string => typeof name === 'string' && name.length > 0
  )
  return [...new Set(names.map((name) => name.toLowerCase()))].map((lower) =>
    names.find((name) => name.toLowerCase() === lower)!
  )
}

/** Reads a stored mapping, filling what an older or partial value lacks. */
export function readStoredMapping(value: unknown): DirectoryMapping {
  const raw = (typeof value === 'string' ? JSON.parse(value) : (value ?? {})) as Partial<
    Record<keyof DirectoryMapping, unknown>
  >
  const text = (entry: unknown) => (typeof entry === 'string' && entry.trim() ? entry.trim() : null)
  const values = <T extends string>(entry: unknown, allowed: readonly T[]) =>
    Object.fromEntries(
      Object.entries((entry ?? {}) as Record<string, unknown>).filter((pair): pair is [string, T] =>
        allowed.includes(pair[1] as T)
      )
    )
  const fixedType = text(raw.identityTypeFixed)
  return {
    personNo: text(raw.personNo) ?? 'uid',
    name: text(raw.name) ?? 'cn',
    gender: text(raw.gender),
    genderValues: values(raw.genderValues, GENDERS),
    identityType: text(raw.identityType),
    identityTypeValues: values(raw.identityTypeValues, IDENTITY_TYPES),
    identityTypeFixed:
      fixedType && IDENTITY_TYPES.includes(fixedType as IdentityType)
        ? (fixedType as IdentityType)
        : null,
    orgUnit: text(raw.orgUnit),
    orgUnitFixed: text(raw.orgUnitFixed),
    email: text(raw.email),
    phone: text(raw.phone),
    enrollmentYear: text(raw.enrollmentYear),
  }
}

/**
 * Parses a value table typed as one "directory value = Quad value" per
 * line. Quad values may be keys or labels in any language (`labels`).
 * Returns the table (keys in lower case) or the lines that could not be read.
 */
export function parseValueTable<T extends string>(
  text: string,
  allowed: readonly T[],
  labels: Record<string, string[]> = {}
): { ok: true; value: Record<string, T> } | { ok: false; badLines: string[] } {
  const table: Record<string, T> = {}
  const badLines: string[] = []
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim()
    if (!trimmed) continue
    const at = trimmed.indexOf('=')
    const key = at > 0 ? trimmed.slice(0, at).trim().toLowerCase() : ''
    const wanted =
      at > 0
        ? trimmed
            .slice(at + 1)
            .trim()
            .toLowerCase()
        : ''
    const value = allowed.find(
      (candidate) =>
        candidate === wanted ||
        (labels[candidate] ?? []).some((label) => label.toLowerCase() === wanted)
    )
    if (!key || key.length > 128 || !value) badLines.push(trimmed)
    else table[key] = value
  }
  return badLines.length ? { ok: false, badLines } : { ok: true, value: table }
}

/** The value table as the form shows it, one "value=key" per line. */
export function formatValueTable(table: Record<string, string>): string {
  return Object.entries(table)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
}

/** One directory entry with its attribute names in lower case. */
export interface DirectoryEntry {
  dn: string
  attributes: Map<string, string[]>
}

/** Why an entry cannot become a person, before SavePerson is asked. */
export interface EntryProblem {
  field: MappedField
  code: 'missing_attribute' | 'value_unmapped' | 'enrollment_year_format' | 'duplicate_person_no'
  params: Record<string, string>
}

export interface MappedEntry {
  dn: string
  input: PersonInput
  /** The org unit code, for messages. */
  orgUnitCode: string | null
  problems: EntryProblem[]
}

/** The first non-blank value of an attribute, trimmed; null when the entry has none. */
export function firstValue(entry: DirectoryEntry, attribute: string | null): string | null {
  if (!attribute) return null
  for (const value of entry.attributes.get(attribute.toLowerCase()) ?? []) {
    const trimmed = value.trim()
    if (trimmed) return trimmed
  }
  return null
}

/**
 * A value of a choice field: the table's entry, else the Quad key itself,
 * else one of its labels in any language.
 */
function choose<T extends string>(
  raw: string,
  table: Record<string, T>,
  allowed: readonly T[],
  labels: Record<string, string[]>
): T | null {
  const wanted = raw.toLowerCase()
  if (table[wanted]) return table[wanted]
  return (
    allowed.find(
      (value) =>
        value === wanted || (labels[value] ?? []).some((label) => label.toLowerCase() === wanted)
    ) ?? null
  )
}

/**
 * Maps one entry to the SavePerson input. Problems found here (a required
 * attribute missing, a value the tables do not know) are listed; the
 * registry's own rules are left to SavePerson.
 */
export function mapEntry(
  entry: DirectoryEntry,
  mapping: DirectoryMapping,
  labels: { gender: Record<string, string[]>; identityType: Record<string, string[]> }
): MappedEntry {
  const problems: EntryProblem[] = []
  const missing = (field: MappedField, attribute: string) =>
    problems.push({ field, code: 'missing_attribute', params: { attribute } })
  const input: PersonInput = {}

  const personNo = firstValue(entry, mapping.personNo)
  if (personNo) input.personNo = personNo
  else missing('personNo', mapping.personNo)

  const name = firstValue(entry, mapping.name)
  if (name) input.name = name
  else missing('name', mapping.name)

  if (mapping.gender) {
    const raw = firstValue(entry, mapping.gender)
    if (raw === null) input.gender = 'unknown'
    else {
      const gender = choose(raw, mapping.genderValues, GENDERS, labels.gender)
      if (gender) input.gender = gender
      else
        problems.push({
          field: 'gender',
          code: 'value_unmapped',
          params: { attribute: mapping.gender, value: raw },
        })
    }
  }

  const rawType = firstValue(entry, mapping.identityType)
  if (rawType !== null) {
    const type = choose(rawType, mapping.identityTypeValues, IDENTITY_TYPES, labels.identityType)
    if (type) input.identityType = type
    else
      problems.push({
        field: 'identityType',
        code: 'value_unmapped',
        params: { attribute: mapping.identityType!, value: rawType },
      })
  } else if (mapping.identityTypeFixed) input.identityType = mapping.identityTypeFixed
  else missing('identityType', mapping.identityType ?? '')

  const orgUnitCode = firstValue(entry, mapping.orgUnit) ?? mapping.orgUnitFixed
  if (orgUnitCode) input.orgUnit = { code: orgUnitCode }
  else missing('orgUnit', mapping.orgUnit ?? '')

  if (mapping.email) input.email = firstValue(entry, mapping.email)
  if (mapping.phone) input.phone = firstValue(entry, mapping.phone)
  if (mapping.enrollmentYear) {
    const raw = firstValue(entry, mapping.enrollmentYear)
    if (raw === null) input.enrollmentYear = null
    else if (/^\d{4}$/.test(raw)) input.enrollmentYear = Number(raw)
    else
      problems.push({
        field: 'enrollmentYear',
        code: 'enrollment_year_format',
        params: { attribute: mapping.enrollmentYear, value: raw.slice(0, 32) },
      })
  }
  return { dn: entry.dn, input, orgUnitCode, problems }
}
