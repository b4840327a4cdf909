import type { AuditActor } from '#core/services/audit'
import type { Result } from '#core/services/result'
import type { JobDefinition } from '#appliance/services/jobs_registry'
import type { OrgScope } from '#identity/services/org_scope'
import type { SheetSource } from '#identity/services/spreadsheet'
import type {
  ColumnMapping,
  ImportColumn,
  ImportReport,
  MappingProblem,
} from '#identity/services/import_columns'
import type { ImportKind } from '#identity/services/import_records'
import {
  applyPeopleImport,
  dryRunPeopleImport,
  PEOPLE_COLUMNS,
} from '#identity/services/import_people'
import {
  applyOrgUnitImport,
  dryRunOrgUnitImport,
  ORG_UNIT_COLUMNS,
} from '#identity/services/import_org_units'
import { valueLabels } from '#identity/services/export_people'
import { orgValueLabels } from '#identity/services/export_org_units'
import { mapColumnsOf } from '#identity/services/import_columns'
import {
  checkOrgUnitImportJob,
  checkPeopleImportJob,
  importOrgUnitsJob,
  importPeopleJob,
} from '#identity/services/import_jobs'

export interface RunOptions {
  overrides?: Record<number, string>
  scope?: OrgScope
  fileName?: string
  onProgress?: (done: number, total: number) => void | Promise<void>
}

/**
 * What differs between the kinds of import; the upload, the column mapping,
 * the jobs, the progress and the pages are shared.
 */
export interface ImportKindDefinition {
  kind: ImportKind
  columns: ImportColumn[]
  /** The permission an account needs to import this kind. */
  permission: 'people.write' | 'org.write'
  mapColumns(
    headers: string[],
    overrides?: Record<number, string>
  ): { mapping: ColumnMapping; problem: MappingProblem | null }
  dryRun(
    sheet: SheetSource,
    actor: AuditActor,
    options: RunOptions
  ): Promise<Result<ImportReport, string>>
  apply(
    sheet: SheetSource,
    actor: AuditActor,
    options: RunOptions
  ): Promise<Result<ImportReport, string>>
  checkJob: JobDefinition<{ importId: string }>
  importJob: JobDefinition<{ importId: string }>
}

export const IMPORT_KIND_DEFINITIONS: Record<ImportKind, ImportKindDefinition> = {
  people: {
    kind: 'people',
    columns: PEOPLE_COLUMNS,
    permission: 'people.write',
    mapColumns: (headers, overrides) => mapColumnsOf(PEOPLE_COLUMNS, headers, overrides),
    dryRun: (sheet, actor, options) =>
      dryRunPeopleImport(sheet, actor, { ...options, labels: valueLabels() }),
    apply: (sheet, actor, options) =>
      applyPeopleImport(sheet, actor, { ...options, labels: valueLabels() }),
    checkJob: checkPeopleImportJob,
    importJob: importPeopleJob,
  },
  org_units: {
    kind: 'org_units',
    columns: ORG_UNIT_COLUMNS,
    permission: 'org.write',
    mapColumns: (headers, overrides) => mapColumnsOf(ORG_UNIT_COLUMNS, headers, overrides),
    dryRun: (sheet, actor, options) =>
      dryRunOrgUnitImport(sheet, actor, { ...options, labels: orgValueLabels() }),
    apply: (sheet, actor, options) =>
      applyOrgUnitImport(sheet, actor, { ...options, labels: orgValueLabels() }),
    checkJob: checkOrgUnitImportJob,
    importJob: importOrgUnitsJob,
  },
}

/** The definition of one kind of import. */
export function importKind(kind: ImportKind): ImportKindDefinition {
  return IMPORT_KIND_DEFINITIONS[kind]
}
