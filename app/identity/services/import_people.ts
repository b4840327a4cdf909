import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { GENDERS, IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'
import {
  SavePerson,
  fieldErrorsOf,
  type PersonInput,
  type PersonField,
} from '#identity/actions/save_person'
import { ID_DOC_TYPES, splitTags } from '#identity/services/person_rules'
import type { Sheet } from '#identity/services/spreadsheet'

/**
 * The people spreadsheet: which header means which field, how a row becomes
 * the input of SavePerson, and the dry run and the import themselves.
 *
 * An import applies every row or none: if any row is refused, nothing is
 * written and the user fixes the file. A half-imported file would leave the
 * registry in a state nobody can describe, and a second try of the fixed
 * file is cheap because the import is an upsert keyed by person number.
 */

/** A column of the people spreadsheet. `headers[0]` is the Chinese and `headers[1]` the English header of the template. */
export interface PeopleColumn {
  key: string
  field: PersonField
  headers: [string, string, ...string[]]
  /** The file must have this column. */
  required?: boolean
}

export const PEOPLE_COLUMNS: PeopleColumn[] = [
  {
    key: 'person_no',
    field: 'personNo',
    headers: ['学工号', 'person_no', '学号', '工号', 'person number'],
    required: true,
  },
  { key: 'name', field: 'name', headers: ['姓名', 'name'], required: true },
  { key: 'gender', field: 'gender', headers: ['性别', 'gender', 'sex'] },
  {
    key: 'identity_type',
    field: 'identityType',
    headers: ['身份类型', 'identity_type', '身份', 'identity type'],
    required: true,
  },
  { key: 'status', field: 'status', headers: ['状态', 'status'] },
  {
    key: 'org_unit_code',
    field: 'orgUnit',
    headers: ['所属单位代码', 'org_unit_code', '单位代码', 'org unit code', 'org unit'],
    required: true,
  },
  {
    key: 'enrollment_year',
    field: 'enrollmentYear',
    headers: ['入学年份', 'enrollment_year', 'enrollment year'],
  },
  {
    key: 'expected_graduation_date',
    field: 'expectedGraduationDate',
    headers: ['预计毕业日期', 'expected_graduation_date', 'expected graduation date'],
  },
  { key: 'phone', field: 'phone', headers: ['手机号', 'phone', '手机号码', '手机', 'mobile'] },
  { key: 'email', field: 'email', headers: ['邮箱', 'email', '电子邮箱', 'e-mail'] },
  {
    key: 'id_doc_type',
    field: 'idDocType',
    headers: ['证件类型', 'id_doc_type', 'id document type'],
  },
  {
    key: 'id_doc_number',
    field: 'idDocNumber',
    headers: ['证件号码', 'id_doc_number', '身份证号', 'id document number'],
  },
  { key: 'tags', field: 'tags', headers: ['标签', 'tags'] },
  {
    key: 'status_reason',
    field: 'statusReason',
    headers: ['状态变更原因', 'status_reason', 'status reason'],
  },
]

/** Header text reduced to what matters: case, spaces, underscores and a "required" star do not. */
function headerKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/[（(][^）)]*[）)]/g, '')
    .replace(/[\s_\-*＊:：]+/g, '')
}

const BY_HEADER = new Map<string, PeopleColumn>()
for (const column of PEOPLE_COLUMNS)
  for (const header of column.headers) BY_HEADER.set(headerKey(header), column)

/** For each header of the file, the column it was recognised as (index → column key), or null. */
export type ColumnMapping = (string | null)[]

export interface MappingProblem {
  unknown: string[]
  missing: string[]
  duplicated: string[]
}

/** Recognises the file's headers; `overrides` (header index → column key or '' to ignore) wins. */
export function mapColumns(
  headers: string[],
  overrides: Record<number, string> = {}
): { mapping: ColumnMapping; problem: MappingProblem | null } {
  const mapping: ColumnMapping = headers.map((header, index) => {
    if (index in overrides) return overrides[index] || null
    return BY_HEADER.get(headerKey(header))?.key ?? null
  })
  const unknown = headers.filter(
    (header, index) => header !== '' && mapping[index] === null && !(index in overrides)
  )
  const seen = new Set<string>()
  const duplicated: string[] = []
  for (const key of mapping) {
    if (key === null) continue
    if (seen.has(key)) duplicated.push(key)
    seen.add(key)
  }
  const missing = PEOPLE_COLUMNS.filter((column) => column.required && !seen.has(column.key)).map(
    (column) => column.key
  )
  const problem = missing.length || duplicated.length ? { unknown, missing, duplicated } : null
  return { mapping, problem }
}

/** Chinese and English labels of each enum value, used to read cells written in either language. */
export interface ValueLabels {
  gender: Record<string, string[]>
  identityType: Record<string, string[]>
  status: Record<string, string[]>
  idDocType: Record<string, string[]>
}

function choice(labels: Record<string, string[]>, text: string): string {
  const wanted = text.trim().toLowerCase()
  for (const [value, names] of Object.entries(labels)) {
    if (value === wanted || names.some((name) => name.toLowerCase() === wanted)) return value
  }
  // An unknown value goes through as it is: SavePerson refuses it as an invalid choice.
  return text.trim()
}

/** yyyy-MM-dd from "2027-06-30", "2027/6/30" or "2027.6.30"; anything else unchanged. */
function isoDate(text: string): string {
  const match = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(text.trim())
  if (!match) return text.trim()
  return `${match[1]}-${match[2].padStart(2, '0')}-${match[3].padStart(2, '0')}`
}

/**
 * The SavePerson input of one row. Empty optional cells clear the value; a
 * masked phone or ID number (with "*", as an ordinary export writes it)
 * keeps the stored value, so that an export re-imports unchanged.
 */
export function rowInput(
  cells: string[],
  mapping: ColumnMapping,
  labels: ValueLabels
): PersonInput {
  const input: PersonInput = {}
  mapping.forEach((key, index) => {
    if (key === null) return
    const text = (cells[index] ?? '').trim()
    const blank = text === ''
    switch (key) {
      case 'person_no':
        if (!blank) input.personNo = text
        break
      case 'name':
        if (!blank) input.name = text
        break
      case 'gender':
        if (!blank) input.gender = choice(labels.gender, text) as PersonInput['gender']
        break
      case 'identity_type':
        if (!blank)
          input.identityType = choice(labels.identityType, text) as PersonInput['identityType']
        break
      case 'status':
        if (!blank) input.status = choice(labels.status, text) as PersonInput['status']
        break
      case 'status_reason':
        input.statusReason = blank ? null : text
        break
      case 'org_unit_code':
        if (!blank) input.orgUnit = { code: text }
        break
      case 'enrollment_year':
        input.enrollmentYear = blank ? null : /^\d+$/.test(text) ? Number(text) : Number.NaN
        break
      case 'expected_graduation_date':
        input.expectedGraduationDate = blank ? null : isoDate(text.slice(0, 10))
        break
      case 'email':
        input.email = blank ? null : text
        break
      case 'phone':
        if (!text.includes('*')) input.phone = blank ? null : text
        break
      case 'id_doc_type':
        input.idDocType = blank
          ? null
          : (choice(labels.idDocType, text) as PersonInput['idDocType'])
        break
      case 'id_doc_number':
        if (!text.includes('*')) input.idDocNumber = blank ? null : text
        break
      case 'tags':
        input.tags = splitTags(text)
        break
    }
  })
  // A masked number with its type: the type alone would ask for the number again.
  if (
    input.idDocNumber === undefined &&
    input.idDocType !== undefined &&
    input.idDocType !== null
  ) {
    const at = mapping.indexOf('id_doc_number')
    if (at >= 0 && (cells[at] ?? '').includes('*')) delete input.idDocType
  }
  return input
}

/** One refused cell: the Excel row number, the user's header text and a code (with parameters). */
export interface RowError {
  line: number
  column: string
  code: string
  params?: Record<string, string | number>
}

export interface ImportCounts {
  total: number
  created: number
  updated: number
  unchanged: number
}

export interface ImportReport extends ImportCounts {
  errors: RowError[]
}

export interface ImportOptions {
  labels: ValueLabels
  /** Header index → column key chosen by the user ('' ignores the column). */
  overrides?: Record<number, string>
  /** Called every few hundred rows with the number of rows done. */
  onProgress?: (done: number, total: number) => void | Promise<void>
}

class ImportRefused extends Error {}

/** Rows per savepoint, and how often progress is reported. */
const CHUNK_ROWS = 500

/**
 * Runs every row through SavePerson inside `trx` and reports every refused
 * cell, duplicates of a person number within the file included.
 */
async function runRows(
  trx: TransactionClientContract,
  sheet: Sheet,
  mapping: ColumnMapping,
  actor: AuditActor,
  options: ImportOptions
): Promise<ImportReport> {
  const report: ImportReport = {
    total: sheet.rows.length,
    created: 0,
    updated: 0,
    unchanged: 0,
    errors: [],
  }
  const headerOf = (field: PersonField) => {
    const key = PEOPLE_COLUMNS.find((column) => column.field === field)?.key
    const at = key ? mapping.indexOf(key) : -1
    return at >= 0 ? sheet.headers[at] : (key ?? field)
  }
  const firstLine = new Map<string, number>()
  const save = new SavePerson()
  let done = 0
  // Each model saved in a transaction stays referenced by it until it ends.
  // Rows go through savepoints of CHUNK_ROWS rows, released as they finish,
  // so memory stays flat; the outer transaction still decides all or none.
  let chunk: TransactionClientContract | null = null
  for (const row of sheet.rows) {
    if (chunk === null) chunk = await trx.transaction()
    const input = rowInput(row.cells, mapping, options.labels)
    const number = input.personNo?.trim().toUpperCase()
    const earlier = number ? firstLine.get(number) : undefined
    if (number && earlier !== undefined) {
      report.errors.push({
        line: row.line,
        column: headerOf('personNo'),
        code: 'duplicate_in_file',
        params: { line: earlier },
      })
    } else {
      if (number) firstLine.set(number, row.line)
      const result = await save.handle(input, { mode: 'upsert' }, actor, chunk)
      if (result.ok) {
        if (result.value.created) report.created++
        else if (result.value.changed.length) report.updated++
        else report.unchanged++
      } else {
        for (const error of fieldErrorsOf(result))
          report.errors.push({ line: row.line, column: headerOf(error.field), code: error.code })
      }
    }
    done++
    if (done % CHUNK_ROWS === 0) {
      await chunk.commit()
      chunk = null
      if (options.onProgress) await options.onProgress(done, report.total)
    }
  }
  if (chunk) await chunk.commit()
  if (options.onProgress) await options.onProgress(done, report.total)
  return report
}

export type ImportError = 'columns'

/**
 * Checks every row as the import would, and writes nothing: the rows are
 * saved inside a transaction that is always rolled back.
 */
export async function dryRunPeopleImport(
  sheet: Sheet,
  actor: AuditActor,
  options: ImportOptions
): Promise<Result<ImportReport, ImportError>> {
  const { mapping, problem } = mapColumns(sheet.headers, options.overrides)
  if (problem) return fail('columns', { ...problem })
  const trx = await db.transaction()
  try {
    return ok(await runRows(trx, sheet, mapping, actor, options))
  } finally {
    await trx.rollback()
  }
}

/**
 * Imports the sheet in one transaction: every row or, if any is refused,
 * none (the report then lists why). Upserts by person number, so that the
 * same file imported twice changes nothing the second time. One summary
 * audit entry records the import; SavePerson records each changed person.
 */
export async function applyPeopleImport(
  sheet: Sheet,
  actor: AuditActor,
  options: ImportOptions & { fileName?: string }
): Promise<Result<ImportReport, ImportError | 'rows_invalid'>> {
  const { mapping, problem } = mapColumns(sheet.headers, options.overrides)
  if (problem) return fail('columns', { ...problem })
  let report: ImportReport | undefined
  try {
    await db.transaction(async (trx) => {
      report = await runRows(trx, sheet, mapping, actor, options)
      if (report.errors.length) throw new ImportRefused()
      await recordAudit(
        actor,
        {
          action: 'people.imported',
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

export { GENDERS, IDENTITY_TYPES, PERSON_STATUSES, ID_DOC_TYPES }
