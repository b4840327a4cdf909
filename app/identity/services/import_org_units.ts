import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import OrgUnit, { ORG_UNIT_KINDS, type OrgUnitKind } from '#identity/models/org_unit'
import { CreateOrgUnit } from '#identity/actions/create_org_unit'
import { MoveOrgUnit } from '#identity/actions/move_org_unit'
import { RenameOrgUnit } from '#identity/actions/rename_org_unit'
import { checkOrgUnitCode, checkOrgUnitName } from '#identity/services/org_rules'
import { scopeIncludesPath, type OrgScope } from '#identity/services/org_scope'
import { recordOrgUnitChange } from '#identity/services/person_history'
import { sheetRowCount, sheetRows, type SheetSource } from '#identity/services/spreadsheet'
import {
  headerOf,
  ImportRefused,
  mapColumnsOf,
  type ColumnMapping,
  type ImportColumn,
  type ImportReport,
  type MappingProblem,
  type RowError,
} from '#identity/services/import_columns'

/**
 * The org-unit spreadsheet: one row per unit, keyed by its code, naming its
 * parent by code. Parents may come after their children in the file. An
 * import applies every row or none, in one transaction; new units are
 * created, and existing ones renamed, moved, re-sorted, disabled or enabled
 * through the same actions as in the console, so each keeps its history
 * and audit entries. The same file imported twice changes nothing.
 */

export const ORG_UNIT_COLUMNS: ImportColumn[] = [
  {
    key: 'code',
    headers: ['单位代码', 'code', '代码', '机构代码', 'unit code', 'org unit code'],
    required: true,
  },
  { key: 'name', headers: ['单位名称', 'name', '名称', '机构名称', 'unit name'], required: true },
  { key: 'kind', headers: ['单位类型', 'kind', '类型', 'type', 'unit kind'], required: true },
  {
    key: 'parent_code',
    headers: ['上级单位代码', 'parent_code', '上级代码', '上级单位', 'parent code', 'parent'],
    required: true,
  },
  { key: 'sort_order', headers: ['排序', 'sort_order', '排序号', '顺序', 'sort order', 'order'] },
  { key: 'disabled', headers: ['是否停用', 'disabled', '停用', '已停用'] },
]

/** Recognises the file's headers; `overrides` (header index → column key or '' to ignore) wins. */
export function mapOrgUnitColumns(
  headers: string[],
  overrides: Record<number, string> = {}
): { mapping: ColumnMapping; problem: MappingProblem | null } {
  return mapColumnsOf(ORG_UNIT_COLUMNS, headers, overrides)
}

/** The Chinese and English words accepted in the kind and "disabled" cells. */
export interface OrgValueLabels {
  kind: Record<string, string[]>
  yes: string[]
  no: string[]
}

export interface OrgImportOptions {
  labels: OrgValueLabels
  /** Header index → column key chosen by the user ('' ignores the column). */
  overrides?: Record<number, string>
  /** Where the importing account may act; rows outside it are refused. Default: the whole school. */
  scope?: OrgScope
  /** Called as rows are applied, with the number of rows done. */
  onProgress?: (done: number, total: number) => void | Promise<void>
}

/** The column an action's refusal belongs to. */
const ACTION_ERROR_COLUMNS: Record<string, string> = {
  parent_not_found: 'parent_code',
  parent_disabled: 'parent_code',
  too_deep: 'parent_code',
  into_own_subtree: 'parent_code',
  invalid_kind: 'kind',
  name_length: 'name',
}

/** The highest sort order the console accepts. */
const MAX_SORT_ORDER = 100_000

const KIND_RANK = new Map<string, number>(ORG_UNIT_KINDS.map((kind, rank) => [kind, rank]))

/** One row of the file as read; null where a cell was refused. */
interface OrgRow {
  line: number
  code: string | null
  name: string | null
  kind: OrgUnitKind | null
  /** null: a top-level unit (blank cell). */
  parentCode: string | null
  /** The parent cell held something that is no code. */
  parentInvalid: boolean
  sortOrder: number | undefined
  disabled: boolean | undefined
  /** Every cell was accepted. */
  valid: boolean
}

function matches(names: string[], text: string): boolean {
  const wanted = text.toLowerCase()
  return names.some((name) => name.toLowerCase() === wanted)
}

function parseRow(
  line: number,
  cells: string[],
  mapping: ColumnMapping,
  labels: OrgValueLabels,
  refuse: (key: string, code: string) => void
): OrgRow {
  const cell = (key: string) => {
    const at = mapping.indexOf(key)
    return at >= 0 ? (cells[at] ?? '').trim() : ''
  }
  const row: OrgRow = {
    line,
    code: null,
    name: null,
    kind: null,
    parentCode: null,
    parentInvalid: false,
    sortOrder: undefined,
    disabled: undefined,
    valid: true,
  }
  const refused = (key: string, code: string) => {
    row.valid = false
    refuse(key, code)
  }

  const code = cell('code')
  if (code === '') refused('code', 'required')
  else {
    const checked = checkOrgUnitCode(code)
    if (checked.ok) row.code = checked.value
    else refused('code', checked.error)
  }
  const name = cell('name')
  if (name === '') refused('name', 'required')
  else {
    const checked = checkOrgUnitName(name)
    if (checked.ok) row.name = checked.value
    else refused('name', checked.error)
  }
  const kind = cell('kind')
  if (kind === '') refused('kind', 'required')
  else {
    const found = ORG_UNIT_KINDS.find(
      (value) => value === kind.toLowerCase() || matches(labels.kind[value] ?? [], kind)
    )
    if (found) row.kind = found
    else refused('kind', 'invalid_kind')
  }
  const parent = cell('parent_code')
  if (parent !== '') {
    const checked = checkOrgUnitCode(parent)
    if (checked.ok) row.parentCode = checked.value
    else {
      row.parentInvalid = true
      refused('parent_code', 'code_format')
    }
  }
  const sortOrder = cell('sort_order')
  if (sortOrder !== '') {
    if (/^\d{1,6}$/.test(sortOrder) && Number(sortOrder) <= MAX_SORT_ORDER)
      row.sortOrder = Number(sortOrder)
    else refused('sort_order', 'sort_order_format')
  }
  const disabled = cell('disabled')
  if (disabled !== '') {
    if (matches(labels.yes, disabled)) row.disabled = true
    else if (matches(labels.no, disabled)) row.disabled = false
    else refused('disabled', 'disabled_format')
  }
  return row
}

/** What the import does to one row's unit, in the order it is done. */
interface RowPlan {
  row: OrgRow & { code: string; name: string; kind: OrgUnitKind }
  existing: OrgUnit | null
  moving: boolean
  enable: boolean
  disable: boolean
  rename: boolean
  reorder: boolean
  /** Depth of the unit once the import is done: parents go first. */
  depth: number
}

/**
 * Reads every row and judges the whole file against the tree as it stands:
 * cell formats, codes given twice, parents named nowhere, cycles, the order
 * of kinds (school › campus › college › department › major › grade › class)
 * for units that are created or moved, the one top-level school, enabled
 * units under disabled ones, and the scope. Pure apart from reading the tree.
 */
async function planRows(
  trx: TransactionClientContract,
  source: SheetSource,
  mapping: ColumnMapping,
  options: OrgImportOptions
): Promise<{ plans: RowPlan[]; errors: RowError[]; total: number }> {
  const errors: RowError[] = []
  const column = (key: string) => headerOf(source.headers, mapping, key)
  const rows: OrgRow[] = []
  const fileRows = new Map<string, OrgRow>()
  for await (const sheetRow of sheetRows(source)) {
    const row = parseRow(sheetRow.line, sheetRow.cells, mapping, options.labels, (key, code) =>
      errors.push({ line: sheetRow.line, column: column(key), code })
    )
    if (row.code !== null) {
      const first = fileRows.get(row.code)
      if (first) {
        errors.push({
          line: row.line,
          column: column('code'),
          code: 'duplicate_code_in_file',
          params: { line: first.line },
        })
        continue
      }
      fileRows.set(row.code, row)
    }
    rows.push(row)
  }

  const units = await OrgUnit.query({ client: trx })
  const byCode = new Map(units.map((unit) => [unit.code, unit]))
  const byId = new Map(units.map((unit) => [unit.id, unit]))
  const existingParentCode = (unit: OrgUnit) =>
    unit.parentId === null ? null : (byId.get(unit.parentId)?.code ?? null)

  /** The parent code of a unit once the import is done; undefined when unknown. */
  const finalParent = (code: string): string | null | undefined => {
    const row = fileRows.get(code)
    if (row) return row.parentInvalid ? undefined : row.parentCode
    const unit = byCode.get(code)
    return unit ? existingParentCode(unit) : undefined
  }
  const known = (code: string) => fileRows.has(code) || byCode.has(code)

  /** The codes from a unit up to the top (the unit first); `cycle` when a code comes back. */
  const lineage = (code: string): { codes: string[]; cycle: boolean } => {
    const codes = [code]
    const seen = new Set(codes)
    let current = finalParent(code)
    while (current !== null && current !== undefined && known(current)) {
      if (seen.has(current)) return { codes: [...codes, current], cycle: current === code }
      codes.push(current)
      seen.add(current)
      current = finalParent(current)
    }
    return { codes, cycle: false }
  }

  const disabledMemo = new Map<string, boolean>()
  /** Whether a unit ends disabled: as its row says, as it is, or through a parent disabled now. */
  const endsDisabled = (code: string, depth = 0): boolean => {
    const memo = disabledMemo.get(code)
    if (memo !== undefined) return memo
    const explicit = fileRows.get(code)?.disabled
    let disabled: boolean
    if (explicit !== undefined) disabled = explicit
    else if (byCode.get(code)?.disabledAt) disabled = true
    else {
      const parent = finalParent(code)
      disabled = parent && depth < 300 && known(parent) ? endsDisabled(parent, depth + 1) : false
    }
    disabledMemo.set(code, disabled)
    return disabled
  }

  const scope = options.scope
  const scopeMemo = new Map<string, boolean>()
  /** Whether a unit ends inside the scope. */
  const endsInScope = (code: string, depth = 0): boolean => {
    if (!scope || scope.kind === 'all') return true
    const memo = scopeMemo.get(code)
    if (memo !== undefined) return memo
    const unit = byCode.get(code)
    const parent = finalParent(code)
    let inside: boolean
    if (unit && parent === existingParentCode(unit)) inside = scopeIncludesPath(scope, unit.path)
    else inside = !!parent && depth < 300 && known(parent) && endsInScope(parent, depth + 1)
    scopeMemo.set(code, inside)
    return inside
  }

  const existingRoots = units.filter((unit) => unit.parentId === null).length
  let newRoots = 0
  const plans: RowPlan[] = []
  for (const row of rows) {
    if (!row.valid || row.code === null || row.name === null || row.kind === null) continue
    const refuse = (key: string, code: string, params?: RowError['params']) =>
      errors.push({ line: row.line, column: column(key), code, params })
    const before = errors.length
    const existing = byCode.get(row.code) ?? null
    const parent = row.parentCode
    const moving = existing !== null && parent !== existingParentCode(existing)
    const placed = existing === null || moving

    if (parent !== null && !known(parent)) refuse('parent_code', 'parent_unknown')
    const { codes, cycle } = lineage(row.code)
    if (cycle) refuse('parent_code', 'cycle', { codes: codes.join(' → ') })

    if (parent === null) {
      if (existing && existingParentCode(existing) !== null)
        refuse('parent_code', 'cannot_become_root')
      else if (!existing) {
        if (row.kind !== 'school') refuse('kind', 'root_kind')
        else if (existingRoots + newRoots++ > 0) refuse('parent_code', 'second_root')
      }
    }

    if (existing && row.kind !== existing.kind) refuse('kind', 'kind_change')
    else if (placed && !cycle && parent !== null && known(parent)) {
      const parentKind = fileRows.get(parent)?.kind ?? byCode.get(parent)?.kind
      if (parentKind && KIND_RANK.get(row.kind)! <= KIND_RANK.get(parentKind)!)
        refuse('kind', 'kind_order')
    }

    if (!cycle && parent !== null && known(parent)) {
      if (row.disabled === false && endsDisabled(parent))
        refuse('disabled', 'enabled_under_disabled')
      // Nothing joins or moves under a unit that is disabled and stays so.
      else if (placed && byCode.get(parent)?.disabledAt && endsDisabled(parent))
        refuse('parent_code', 'parent_disabled')
    }

    if (scope && scope.kind !== 'all' && !cycle) {
      if (existing && !scopeIncludesPath(scope, existing.path))
        refuse('code', 'org_unit_out_of_scope')
      else if (placed && !(parent === null ? false : known(parent) && endsInScope(parent)))
        refuse('parent_code', 'org_unit_out_of_scope')
    }

    if (errors.length > before) continue
    plans.push({
      row: row as RowPlan['row'],
      existing,
      moving,
      enable: !!existing?.disabledAt && row.disabled === false,
      disable: row.disabled === true && !existing?.disabledAt,
      rename: existing !== null && existing.name !== row.name,
      reorder:
        existing !== null && row.sortOrder !== undefined && row.sortOrder !== existing.sortOrder,
      depth: cycle ? 0 : codes.length - 1,
    })
  }
  errors.sort((one, other) => one.line - other.line)
  return { plans, errors, total: sheetRowCount(source) }
}

/**
 * Applies a plan inside `trx`: enables first (so that units can be created
 * or moved under them), then, parents before children, creates or moves
 * each unit and renames or re-sorts it, and disables last (a disabled unit
 * takes the enabled units below it along, as in the console). Refusals of
 * the actions, which the plan should have foreseen, become row errors.
 */
async function applyPlans(
  trx: TransactionClientContract,
  plans: RowPlan[],
  actor: AuditActor,
  column: (key: string) => string,
  options: OrgImportOptions,
  total: number
): Promise<{ report: ImportReport }> {
  const report: ImportReport = { total, created: 0, updated: 0, unchanged: 0, errors: [] }
  const ordered = [...plans].sort((one, other) => one.depth - other.depth)
  const refuse = (plan: RowPlan, key: string, code: string) =>
    report.errors.push({ line: plan.row.line, column: column(key), code })

  for (const plan of ordered.filter((entry) => entry.enable)) {
    await enableUnit(trx, plan.existing!, actor)
  }

  const create = new CreateOrgUnit()
  const move = new MoveOrgUnit()
  const rename = new RenameOrgUnit()
  let done = 0
  for (const plan of ordered) {
    const { row } = plan
    if (!plan.existing) {
      const created = await create.handle(
        {
          parent: row.parentCode === null ? null : { code: row.parentCode },
          kind: row.kind,
          code: row.code,
          name: row.name,
          sortOrder: row.sortOrder,
        },
        actor,
        trx
      )
      if (!created.ok) refuse(plan, ACTION_ERROR_COLUMNS[created.error] ?? 'code', created.error)
    } else {
      if (plan.moving) {
        const moved = await move.handle(
          { unit: { code: row.code }, newParent: { code: row.parentCode! } },
          actor,
          trx
        )
        if (!moved.ok) refuse(plan, 'parent_code', moved.error)
      }
      if (plan.rename) {
        const renamed = await rename.handle(
          { unit: { code: row.code }, name: row.name },
          actor,
          trx
        )
        if (!renamed.ok) refuse(plan, 'name', renamed.error)
      }
      if (plan.reorder) await reorderUnit(trx, plan.existing, row.sortOrder!, actor)
    }
    done++
    if (options.onProgress && done % 50 === 0) await options.onProgress(done, total)
  }

  for (const plan of ordered.filter((entry) => entry.disable)) {
    await disableUnit(trx, plan.row.code, actor)
  }

  for (const plan of plans) {
    if (!plan.existing) report.created++
    else if (plan.moving || plan.enable || plan.disable || plan.rename || plan.reorder)
      report.updated++
    else report.unchanged++
  }
  if (options.onProgress) await options.onProgress(total, total)
  return { report }
}

/** Enables one unit, as EnableOrgUnit does; the plan has checked its parent ends enabled. */
async function enableUnit(trx: TransactionClientContract, unit: OrgUnit, actor: AuditActor) {
  await trx
    .from('org_units')
    .where('id', unit.id)
    .update({
      disabled_at: null,
      updated_at: DateTime.utc().toFormat(trx.dialect.dateTimeFormat),
    })
  await recordOrgUnitChange(trx, unit, 'enabled', { disabled: [true, false] }, actor)
  await recordAudit(
    actor,
    {
      action: 'org.unit_enabled',
      subjectType: 'org_unit',
      subjectId: unit.publicId,
      before: { disabled: true },
      after: { disabled: false },
    },
    trx
  )
}

/**
 * Disables a unit and every enabled unit below it, as DisableOrgUnit does.
 * A unit that an earlier row's unit took along is already disabled: nothing
 * more to record.
 */
async function disableUnit(trx: TransactionClientContract, code: string, actor: AuditActor) {
  const unit = await OrgUnit.query({ client: trx }).where('code', code).firstOrFail()
  if (unit.disabledAt) return
  const now = DateTime.utc().toFormat(trx.dialect.dateTimeFormat)
  const disabledUnits = Number(
    await trx
      .from('org_units')
      .where('path', 'like', `${unit.path}%`)
      .whereNull('disabled_at')
      .update({ disabled_at: now, updated_at: now })
  )
  const changes = {
    disabled: [false, true] as [unknown, unknown],
    units: [null, disabledUnits] as [unknown, unknown],
  }
  await recordOrgUnitChange(trx, unit, 'disabled', changes, actor)
  await recordAudit(
    actor,
    {
      action: 'org.unit_disabled',
      subjectType: 'org_unit',
      subjectId: unit.publicId,
      before: { disabled: false },
      after: { disabled: true },
      meta: { units: disabledUnits, reason: null },
    },
    trx
  )
}

/** Gives a unit a new place among its siblings; audited (the console has no such form). */
async function reorderUnit(
  trx: TransactionClientContract,
  unit: OrgUnit,
  sortOrder: number,
  actor: AuditActor
) {
  await trx
    .from('org_units')
    .where('id', unit.id)
    .update({
      sort_order: sortOrder,
      updated_at: DateTime.utc().toFormat(trx.dialect.dateTimeFormat),
    })
  await recordAudit(
    actor,
    {
      action: 'org.unit_reordered',
      subjectType: 'org_unit',
      subjectId: unit.publicId,
      before: { sortOrder: unit.sortOrder },
      after: { sortOrder },
    },
    trx
  )
}

/** Plans and, if every row passed, applies the file inside `trx`. */
async function runOrgRows(
  trx: TransactionClientContract,
  source: SheetSource,
  mapping: ColumnMapping,
  actor: AuditActor,
  options: OrgImportOptions
): Promise<ImportReport> {
  const { plans, errors, total } = await planRows(trx, source, mapping, options)
  if (errors.length) {
    const changed = plans.filter(
      (plan) =>
        !plan.existing || plan.moving || plan.enable || plan.disable || plan.rename || plan.reorder
    )
    return {
      total,
      created: plans.filter((plan) => !plan.existing).length,
      updated: changed.filter((plan) => plan.existing).length,
      unchanged: plans.length - changed.length,
      errors,
    }
  }
  const column = (key: string) => headerOf(source.headers, mapping, key)
  const { report } = await applyPlans(trx, plans, actor, column, options, total)
  return report
}

export type OrgImportError = 'columns'

/**
 * Checks every row as the import would, and writes nothing: the rows are
 * applied inside a transaction that is always rolled back, so that even
 * what only the actions can tell (a tree grown too deep) shows up here.
 */
export async function dryRunOrgUnitImport(
  sheet: SheetSource,
  actor: AuditActor,
  options: OrgImportOptions
): Promise<Result<ImportReport, OrgImportError>> {
  const { mapping, problem } = mapOrgUnitColumns(sheet.headers, options.overrides)
  if (problem) return fail('columns', { ...problem })
  const trx = await db.transaction()
  try {
    return ok(await runOrgRows(trx, sheet, mapping, actor, options))
  } finally {
    await trx.rollback()
  }
}

/**
 * Imports the sheet in one transaction: every row or, if any is refused,
 * none (the report then lists why). Upserts by unit code. One summary audit
 * entry records the import; the actions record each changed unit.
 */
export async function applyOrgUnitImport(
  sheet: SheetSource,
  actor: AuditActor,
  options: OrgImportOptions & { fileName?: string }
): Promise<Result<ImportReport, OrgImportError | 'rows_invalid'>> {
  const { mapping, problem } = mapOrgUnitColumns(sheet.headers, options.overrides)
  if (problem) return fail('columns', { ...problem })
  let report: ImportReport | undefined
  try {
    await db.transaction(async (trx) => {
      report = await runOrgRows(trx, sheet, mapping, actor, options)
      if (report.errors.length) throw new ImportRefused()
      await recordAudit(
        actor,
        {
          action: 'org.units_imported',
          subjectType: 'import',
          meta: {
            file: options.fileName ?? null,
            format: sheet.format,
            total: report.total,
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
          },
        },
        trx
      )
    })
  } catch (error) {
    if (error instanceof ImportRefused) return fail('rows_invalid', { report })
    throw error
  }
  return ok(report!)
}
