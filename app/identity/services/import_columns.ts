/**
 * What every spreadsheet import shares: columns recognised by their header
 * in Chinese or English, the user's own choice of column where a header is
 * not recognised, and the report of a dry run or an import.
 */

/** A column of an import. `headers[0]` is the Chinese and `headers[1]` the English header of the template. */
export interface ImportColumn {
  key: string
  headers: [string, string, ...string[]]
  /** The file must have this column. */
  required?: boolean
}

/** For each header of the file, the column it was recognised as (index → column key), or null. */
export type ColumnMapping = (string | null)[]

export interface MappingProblem {
  unknown: string[]
  missing: string[]
  duplicated: string[]
}

/** Header text reduced to what matters: case, spaces, underscores and a "required" star do not. */
export function headerKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/[（(][^）)]*[）)]/g, '')
    .replace(/[\s_\-*＊:：]+/g, '')
}

const lookups = new WeakMap<readonly ImportColumn[], Map<string, ImportColumn>>()

function byHeader(columns: readonly ImportColumn[]): Map<string, ImportColumn> {
  let lookup = lookups.get(columns)
  if (!lookup) {
    lookup = new Map()
    for (const column of columns)
      for (const header of column.headers) lookup.set(headerKey(header), column)
    lookups.set(columns, lookup)
  }
  return lookup
}

/** Recognises the file's headers; `overrides` (header index → column key or '' to ignore) wins. */
export function mapColumnsOf(
  columns: readonly ImportColumn[],
  headers: string[],
  overrides: Record<number, string> = {}
): { mapping: ColumnMapping; problem: MappingProblem | null } {
  const lookup = byHeader(columns)
  const mapping: ColumnMapping = headers.map((header, index) => {
    if (index in overrides) return overrides[index] || null
    return lookup.get(headerKey(header))?.key ?? null
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
  const missing = columns
    .filter((column) => column.required && !seen.has(column.key))
    .map((column) => column.key)
  const problem = missing.length || duplicated.length ? { unknown, missing, duplicated } : null
  return { mapping, problem }
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

/** The header the user wrote for a column key, or the key when the file has no such column. */
export function headerOf(headers: string[], mapping: ColumnMapping, key: string): string {
  const at = mapping.indexOf(key)
  return at >= 0 ? headers[at] || key : key
}

/** Thrown inside an import's transaction to roll it back when a row was refused. */
export class ImportRefused extends Error {}
