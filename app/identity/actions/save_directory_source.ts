import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import DirectorySource, {
  DIRECTORY_SCHEDULES,
  DIRECTORY_SCOPES,
  VANISHED_ACTIONS,
  type DirectorySchedule,
  type DirectoryScope,
  type VanishedAction,
} from '#identity/models/directory_source'
import { findOrgUnit } from '#identity/services/org_units'
import { isValidFilter, parseCertificates } from '#identity/services/directory_client'
import {
  ATTRIBUTE_NAME,
  MAPPED_FIELDS,
  type DirectoryMapping,
} from '#identity/services/directory_mapping'

/** A source's settings as any adapter hands them over. */
export interface DirectorySourceSettings {
  name: string
  url: string
  startTls: boolean
  caCertificate: string | null
  bindDn: string | null
  /** undefined keeps the stored password; null removes it (anonymous bind). */
  bindPassword?: string | null
  baseDn: string
  searchFilter: string
  scope: DirectoryScope
  pageSize: number
  timeoutSeconds: number
  mapping: DirectoryMapping
  vanishedAction: VanishedAction
  vanishLimitPercent: number
  schedule: DirectorySchedule
  scheduleTime: string | null
  enabled: boolean
}

/** A refused setting; adapters translate `directory.form_errors.<code>`. */
export interface SettingError {
  field: string
  code: string
  params?: Record<string, string | number>
}

export type SaveSourceError = 'invalid' | 'not_found'

/** The settings the audit log keeps: everything but the password. */
function auditView(source: DirectorySource) {
  return {
    name: source.name,
    url: source.url,
    startTls: source.startTls,
    caCertificate: source.caCertificate ? 'PEM' : null,
    bindDn: source.bindDn,
    baseDn: source.baseDn,
    searchFilter: source.searchFilter,
    scope: source.scope,
    pageSize: source.pageSize,
    timeoutSeconds: source.timeoutSeconds,
    mapping: source.mapping,
    vanishedAction: source.vanishedAction,
    vanishLimitPercent: source.vanishLimitPercent,
    schedule: source.schedule,
    scheduleTime: source.scheduleTime,
    enabled: source.enabled,
  }
}

/** An ldap:// or ldaps:// URL with a host, and nothing but an optional port after it. */
export function checkDirectoryUrl(text: string): boolean {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return false
  }
  return (
    (url.protocol === 'ldap:' || url.protocol === 'ldaps:') &&
    url.hostname.length > 0 &&
    !url.username &&
    !url.password &&
    (url.pathname === '' || url.pathname === '/') &&
    !url.search &&
    !url.hash
  )
}

/**
 * Creates or updates a directory source after checking every setting
 * against the others: URL and TLS options, the CA bundle, the search
 * filter, the attribute names, the fixed org unit, the schedule. The bind
 * password is encrypted with the app key; the audit entry says whether it
 * changed, never what it is.
 */
export class SaveDirectorySource {
  async handle(
    settings: DirectorySourceSettings,
    target: { publicId: string } | null,
    actor: AuditActor
  ): Promise<Result<DirectorySource, SaveSourceError>> {
    const source = target
      ? await DirectorySource.findBy('public_id', target.publicId.toUpperCase())
      : new DirectorySource()
    if (!source) return fail('not_found')

    const errors = await this.check(settings, source.$isPersisted ? source : null)
    if (errors.length) return fail('invalid', { errors })

    const before = source.$isPersisted ? auditView(source) : null
    const scheduleChanged =
      !source.$isPersisted ||
      source.schedule !== settings.schedule ||
      source.scheduleTime !== settings.scheduleTime
    const passwordChanged = settings.bindPassword !== undefined

    source.merge({
      name: settings.name,
      url: settings.url,
      startTls: settings.startTls,
      caCertificate: settings.caCertificate,
      bindDn: settings.bindDn,
      baseDn: settings.baseDn,
      searchFilter: settings.searchFilter,
      scope: settings.scope,
      pageSize: settings.pageSize,
      timeoutSeconds: settings.timeoutSeconds,
      mapping: settings.mapping,
      vanishedAction: settings.vanishedAction,
      vanishLimitPercent: settings.vanishLimitPercent,
      schedule: settings.schedule,
      scheduleTime: settings.schedule === 'daily' ? settings.scheduleTime : null,
      enabled: settings.enabled,
    })
    if (passwordChanged)
      source.bindPassword = settings.bindPassword ? encryption.encrypt(settings.bindPassword) : null
    if (!settings.bindDn) source.bindPassword = null
    // A slot that passed before the schedule was set is not run.
    if (scheduleChanged) source.scheduledFrom = DateTime.now()

    await db.transaction(async (trx) => {
      source.useTransaction(trx)
      await source.save()
      await recordAudit(
        actor,
        {
          action: before ? 'directory.source_updated' : 'directory.source_created',
          subjectType: 'directory_source',
          subjectId: source.publicId,
          before,
          after: auditView(source),
          meta: { bindCredentialChanged: passwordChanged },
        },
        trx
      )
    })
    return ok(source)
  }

  /**
   * Every setting that is refused, without saving anything: for adapters that
   * found problems of their own and still want to show all of them at once.
   */
  async check(
    settings: DirectorySourceSettings,
    source: DirectorySource | null
  ): Promise<SettingError[]> {
    const errors: SettingError[] = []
    const refuse = (field: string, code: string, params?: SettingError['params']) =>
      errors.push({ field, code, params })

    const name = settings.name.trim()
    if (!name || name.length > 64) refuse('name', 'required')
    else {
      const holder = await DirectorySource.findBy('name', name)
      if (holder && holder.id !== source?.id) refuse('name', 'name_taken')
    }
    if (!checkDirectoryUrl(settings.url)) refuse('url', 'url_format')
    else if (settings.startTls && settings.url.toLowerCase().startsWith('ldaps:'))
      refuse('startTls', 'start_tls_with_ldaps')
    if (settings.caCertificate && !parseCertificates(settings.caCertificate))
      refuse('caCertificate', 'ca_certificate_invalid')
    const hasPassword =
      settings.bindPassword !== undefined
        ? Boolean(settings.bindPassword)
        : Boolean(source?.bindPassword)
    if (settings.bindDn && !hasPassword) refuse('bindPassword', 'password_required')
    if (!settings.baseDn.trim()) refuse('baseDn', 'required')
    if (!isValidFilter(settings.searchFilter)) refuse('searchFilter', 'filter_invalid')
    if (!DIRECTORY_SCOPES.includes(settings.scope)) refuse('scope', 'invalid_choice')
    if (!Number.isInteger(settings.pageSize) || settings.pageSize < 1 || settings.pageSize > 5000)
      refuse('pageSize', 'number_range', { min: 1, max: 5000 })
    if (
      !Number.isInteger(settings.timeoutSeconds) ||
      settings.timeoutSeconds < 1 ||
      settings.timeoutSeconds > 120
    )
      refuse('timeoutSeconds', 'number_range', { min: 1, max: 120 })

    const mapping = settings.mapping
    for (const field of MAPPED_FIELDS) {
      const attribute = mapping[field]
      if (attribute && !ATTRIBUTE_NAME.test(attribute)) refuse(`map.${field}`, 'attribute_format')
    }
    if (!mapping.personNo) refuse('map.personNo', 'required')
    if (!mapping.name) refuse('map.name', 'required')
    if (!mapping.identityType && !mapping.identityTypeFixed)
      refuse('map.identityType', 'identity_type_source_missing')
    if (!mapping.orgUnit && !mapping.orgUnitFixed) refuse('map.orgUnit', 'org_unit_source_missing')
    if (mapping.orgUnitFixed && !(await findOrgUnit({ code: mapping.orgUnitFixed })))
      refuse('map.orgUnitFixed', 'org_unit_unknown', { code: mapping.orgUnitFixed })

    if (!VANISHED_ACTIONS.includes(settings.vanishedAction))
      refuse('vanishedAction', 'invalid_choice')
    if (
      !Number.isInteger(settings.vanishLimitPercent) ||
      settings.vanishLimitPercent < 0 ||
      settings.vanishLimitPercent > 100
    )
      refuse('vanishLimitPercent', 'number_range', { min: 0, max: 100 })
    if (!DIRECTORY_SCHEDULES.includes(settings.schedule)) refuse('schedule', 'invalid_choice')
    if (settings.schedule === 'daily') {
      if (!settings.scheduleTime) refuse('scheduleTime', 'schedule_time_required')
      else if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(settings.scheduleTime))
        refuse('scheduleTime', 'format')
    }
    return errors
  }
}
