import vine from '@vinejs/vine'
import { IDENTITY_TYPES, GENDERS } from '#identity/models/person'
import {
  DIRECTORY_SCHEDULES,
  DIRECTORY_SCOPES,
  VANISHED_ACTIONS,
} from '#identity/models/directory_source'
import {
  DIRECTORY_KINDS,
  parseValueTable,
  type DirectoryMapping,
} from '#identity/services/directory_mapping'
import type { DirectorySourceSettings, SettingError } from '#identity/actions/save_directory_source'

/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** The public id of a source or a run in the URL. */
export const directoryParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** Which preset the new-source form starts from. */
export const directoryPresetValidator = vine.create({
  kind: vine.enum(DIRECTORY_KINDS).optional(),
})

const attribute = () => vine.string().trim().maxLength(64)

/**
 * The source form: shapes and lengths. How the settings fit together (URL
 * and TLS, the filter, the fixed org unit…) is checked by SaveDirectorySource.
 */
export const directorySourceFormValidator = vine.create({
  name: vine.string().trim().maxLength(64),
  url: vine.string().trim().maxLength(255),
  startTls: vine.boolean().optional(),
  caCertificate: vine.string().trim().maxLength(65_536).optional(),
  bindDn: vine.string().trim().maxLength(512).optional(),
  // Never trimmed: spaces may be part of a password.
  bindPassword: vine.string().maxLength(256).optional(),
  baseDn: vine.string().trim().maxLength(512),
  searchFilter: vine.string().trim().maxLength(1024),
  scope: vine.enum(DIRECTORY_SCOPES),
  // Ranges are checked with the other rules, so that every problem shows at once.
  pageSize: vine.number(),
  timeoutSeconds: vine.number(),
  mapPersonNo: attribute(),
  mapName: attribute(),
  mapGender: attribute().optional(),
  mapGenderValues: vine.string().trim().maxLength(4000).optional(),
  mapIdentityType: attribute().optional(),
  mapIdentityTypeValues: vine.string().trim().maxLength(4000).optional(),
  mapIdentityTypeFixed: vine.enum(IDENTITY_TYPES).optional(),
  mapOrgUnit: attribute().optional(),
  mapOrgUnitFixed: vine.string().trim().maxLength(32).optional(),
  mapEmail: attribute().optional(),
  mapPhone: attribute().optional(),
  mapEnrollmentYear: attribute().optional(),
  vanishedAction: vine.enum(VANISHED_ACTIONS),
  vanishLimitPercent: vine.number(),
  schedule: vine.enum(DIRECTORY_SCHEDULES),
  scheduleTime: vine.string().trim().maxLength(5).optional(),
  enabled: vine.boolean().optional(),
})

export type DirectorySourceForm = Awaited<ReturnType<typeof directorySourceFormValidator.validate>>

/** The range a number field of the form accepts, for its error message. */
export const NUMBER_RANGES: Record<string, { min: number; max: number }> = {
  pageSize: { min: 1, max: 5000 },
  timeoutSeconds: { min: 1, max: 120 },
  vanishLimitPercent: { min: 0, max: 100 },
}

/** The form field a setting error belongs to ("map.orgUnit" → "mapOrgUnit"). */
export function formFieldOf(field: string): string {
  if (!field.startsWith('map.')) return field
  const name = field.slice(4)
  return `map${name[0].toUpperCase()}${name.slice(1)}`
}

/**
 * Turns the validated form into the action's settings. Value tables that
 * cannot be read come back as errors on their fields.
 */
export function settingsFromForm(
  form: DirectorySourceForm,
  labels: { gender: Record<string, string[]>; identityType: Record<string, string[]> },
  keepPassword: boolean
): { settings: DirectorySourceSettings; errors: SettingError[] } {
  const errors: SettingError[] = []
  const genders = parseValueTable(form.mapGenderValues ?? '', GENDERS, labels.gender)
  if (!genders.ok)
    errors.push({
      field: 'map.genderValues',
      code: 'value_table_invalid',
      params: { lines: genders.badLines.slice(0, 5).join('；') },
    })
  const types = parseValueTable(
    form.mapIdentityTypeValues ?? '',
    IDENTITY_TYPES,
    labels.identityType
  )
  if (!types.ok)
    errors.push({
      field: 'map.identityTypeValues',
      code: 'value_table_invalid',
      params: { lines: types.badLines.slice(0, 5).join('；') },
    })
  const mapping: DirectoryMapping = {
    personNo: form.mapPersonNo,
    name: form.mapName,
    gender: form.mapGender ?? null,
    genderValues: genders.ok ? genders.value : {},
    identityType: form.mapIdentityType ?? null,
    identityTypeValues: types.ok ? types.value : {},
    identityTypeFixed: form.mapIdentityTypeFixed ?? null,
    orgUnit: form.mapOrgUnit ?? null,
    orgUnitFixed: form.mapOrgUnitFixed ?? null,
    email: form.mapEmail ?? null,
    phone: form.mapPhone ?? null,
    enrollmentYear: form.mapEnrollmentYear ?? null,
  }
  return {
    errors,
    settings: {
      name: form.name,
      url: form.url,
      startTls: form.startTls ?? false,
      caCertificate: form.caCertificate ?? null,
      bindDn: form.bindDn ?? null,
      // An empty password field keeps the stored one.
      bindPassword: form.bindPassword ? form.bindPassword : keepPassword ? undefined : null,
      baseDn: form.baseDn,
      searchFilter: form.searchFilter,
      scope: form.scope,
      pageSize: form.pageSize,
      timeoutSeconds: form.timeoutSeconds,
      mapping,
      vanishedAction: form.vanishedAction,
      vanishLimitPercent: form.vanishLimitPercent,
      schedule: form.schedule,
      scheduleTime: form.scheduleTime ?? null,
      enabled: form.enabled ?? false,
    },
  }
}
