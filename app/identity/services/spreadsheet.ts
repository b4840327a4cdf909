import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import iconv from 'iconv-lite'
import ExcelJS from 'exceljs'
import { xlsxRows, XlsxUnreadable } from '#identity/services/import_xlsx'
import { fail, ok, type Result } from '#core/services/result'

/**
 * Reading and writing the spreadsheets people bring: CSV in UTF-8 (with or
 * without a byte order mark) or GBK/GB18030 — what Excel on a Chinese
 * Windows saves — and XLSX (first sheet). Every cell comes back as trimmed
 * text, so that the importer sees the same thing whichever format was used.
 */

export type SpreadsheetFormat = 'csv' | 'xlsx'

export type SpreadsheetError =
  'empty_file' | 'file_too_large' | 'too_many_rows' | 'not_spreadsheet' | 'no_header'

export interface SpreadsheetLimits {
  maxBytes: number
  /** Data rows, the header row not counted. */
  maxRows: number
}

export const DEFAULT_LIMITS: SpreadsheetLimits = { maxBytes: 20 * 1024 * 1024, maxRows: 100_000 }

/** One data row; `line` is the row number the user sees in Excel (the header is row 1). */
export interface SheetRow {
  line: number
  cells: string[]
}

/** A whole sheet in memory: for small files and tests. */
export interface Sheet {
  format: SpreadsheetFormat
  /** Header texts as written in the file. */
  headers: string[]
  /** Data rows, blank rows left out. */
  rows: SheetRow[]
}

/**
 * A sheet read from its file one row at a time, so that an import of tens
 * of thousands of rows never holds them all: `rows()` reads the file again
 * on each call.
 */
export interface SheetStream {
  format: SpreadsheetFormat
  headers: string[]
  /** Data rows, blank rows not counted. */
  rowCount: number
  rows(): AsyncIterable<SheetRow>
}

/** What importers accept: a sheet in memory or one streamed from its file. */
export type SheetSource = Sheet | SheetStream

/** The data rows of either kind of sheet. */
export function sheetRows(source: SheetSource): AsyncIterable<SheetRow> {
  if (typeof source.rows === 'function') return source.rows()
  const rows = source.rows
  return (async function* () {
    yield* rows
  })()
}

/** The number of data rows of either kind of sheet. */
export function sheetRowCount(source: SheetSource): number {
  return typeof source.rows === 'function' ? (source as SheetStream).rowCount : source.rows.length
}

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04])
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
/** Files that are certainly not CSV: old Excel (OLE), PDF, PNG, JPEG, GIF, gzip. */
const FOREIGN_MAGIC = [
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0]),
  Buffer.from('%PDF'),
  Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  Buffer.from([0xff, 0xd8, 0xff]),
  Buffer.from('GIF8'),
  Buffer.from([0x1f, 0x8b]),
]

/**
 * Decodes CSV bytes: valid UTF-8 is taken as UTF-8 (a BOM is dropped);
 * anything else is read as GB18030, the superset of GBK.
 */
export function decodeCsv(bytes: Buffer): string {
  const body = bytes.subarray(0, 3).equals(UTF8_BOM) ? bytes.subarray(3) : bytes
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    return iconv.decode(body, 'gb18030')
  }
}

/**
 * Splits CSV text into records one at a time (RFC 4180: quoted fields may
 * hold commas, quotes and line breaks).
 */
export function* csvRecords(text: string): Generator<string[]> {
  let record: string[] = []
  let field = ''
  let quoted = false
  for (let at = 0; at < text.length; at++) {
    const character = text[at]
    if (quoted) {
      if (character === '"') {
        if (text[at + 1] === '"') {
          field += '"'
          at++
        } else quoted = false
      } else field += character
    } else if (character === '"' && field === '') quoted = true
    else if (character === ',') {
      record.push(field)
      field = ''
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && text[at + 1] === '\n') at++
      record.push(field)
      yield record
      record = []
      field = ''
    } else field += character
  }
  if (field !== '' || record.length > 0) {
    record.push(field)
    yield record
  }
}

/** Splits CSV text into records. */
export function parseCsv(text: string): string[][] {
  return [...csvRecords(text)]
}

/** True when the text holds control characters other than tab, line feed and carriage return. */
function hasControlCharacters(text: string): boolean {
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at)
    if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return true
  }
  return false
}

function isBlank(cells: string[]): boolean {
  return cells.every((cell) => cell === '')
}

class NotSpreadsheet extends Error {}

/** Every record of the first worksheet, blank ones included; throws NotSpreadsheet. */
async function* xlsxRecords(path: string): AsyncGenerator<SheetRow> {
  try {
    yield* xlsxRows(path)
  } catch (error) {
    if (error instanceof XlsxUnreadable) throw new NotSpreadsheet()
    throw error
  }
}

/** Every record of a CSV text, blank ones included. */
function* csvTextRecords(text: string): Generator<SheetRow> {
  let line = 0
  for (const cells of csvRecords(text)) {
    line++
    yield { line, cells: cells.map((cell) => cell.trim()) }
  }
}

/** Reads a CSV file as text; null when it holds binary data. */
async function csvText(path: string): Promise<string | null> {
  const text = decodeCsv(await readFile(path))
  // Control characters other than tab and line breaks mean binary data.
  return hasControlCharacters(text) ? null : text
}

/** Tells XLSX (a zip) from CSV by the first bytes; null for files that are certainly neither. */
async function sniff(path: string): Promise<SpreadsheetFormat | null> {
  const handle = createReadStream(path, { start: 0, end: 7 })
  const chunks: Buffer[] = []
  for await (const chunk of handle) chunks.push(chunk as Buffer)
  const head = Buffer.concat(chunks)
  if (head.subarray(0, 4).equals(ZIP)) return 'xlsx'
  if (FOREIGN_MAGIC.some((magic) => head.subarray(0, magic.length).equals(magic))) return null
  return 'csv'
}

/**
 * Opens a CSV or XLSX file: reads it once to find the header row and count
 * the data rows, keeping none of them. Refuses empty and oversized files and
 * anything that is not a spreadsheet (judged by the first bytes and by
 * decoding, never by the file name alone).
 */
export async function openSpreadsheet(
  path: string,
  limits: SpreadsheetLimits = DEFAULT_LIMITS
): Promise<Result<SheetStream, SpreadsheetError>> {
  const { size } = await stat(path)
  if (size === 0) return fail('empty_file')
  if (size > limits.maxBytes) return fail('file_too_large', { limit: limits.maxBytes })
  const format = await sniff(path)
  if (format === null) return fail('not_spreadsheet')
  let text = format === 'csv' ? await csvText(path) : null
  if (format === 'csv' && text === null) return fail('not_spreadsheet')

  const records = async function* (): AsyncGenerator<SheetRow> {
    if (format === 'xlsx') yield* xlsxRecords(path)
    else yield* csvTextRecords(text ?? (await csvText(path)) ?? '')
  }
  let header: SheetRow | null = null
  let rowCount = 0
  try {
    for await (const record of records()) {
      if (isBlank(record.cells)) continue
      if (header === null) header = record
      else if (++rowCount > limits.maxRows) return fail('too_many_rows', { limit: limits.maxRows })
    }
  } catch (error) {
    if (error instanceof NotSpreadsheet) return fail('not_spreadsheet')
    throw error
  }
  // The text is decoded again for each reading rather than kept meanwhile.
  text = null
  if (header === null) return fail('empty_file')
  const headers = header.cells.map((cell) => cell.replace(/^\uFEFF/, '').trim())
  if (headers.every((cell) => cell === '')) return fail('no_header')
  const headerLine = header.line
  return ok({
    format,
    headers,
    rowCount,
    rows: async function* () {
      let count = 0
      for await (const record of records()) {
        if (record.line <= headerLine || isBlank(record.cells)) continue
        // The file is a private copy, but a row beyond the limit is never read.
        if (++count > limits.maxRows) break
        yield record
      }
    },
  })
}

/** Reads a whole CSV or XLSX file into header texts and data rows (small files). */
export async function readSpreadsheet(
  path: string,
  limits: SpreadsheetLimits = DEFAULT_LIMITS
): Promise<Result<Sheet, SpreadsheetError>> {
  const opened = await openSpreadsheet(path, limits)
  if (!opened.ok) return opened
  const rows: SheetRow[] = []
  for await (const row of opened.value.rows()) rows.push(row)
  return ok({ format: opened.value.format, headers: opened.value.headers, rows })
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/** A CSV document in UTF-8 with a byte order mark, which Excel needs to recognise UTF-8. */
export function writeCsv(headers: string[], rows: string[][]): Buffer {
  const lines = [headers, ...rows].map((cells) => cells.map(csvField).join(','))
  return Buffer.concat([UTF8_BOM, Buffer.from(lines.join('\r\n') + '\r\n', 'utf8')])
}

/**
 * An XLSX workbook of one sheet. Every cell is written as text, so that
 * Excel keeps leading zeros and long ID numbers as they are.
 */
export async function writeXlsx(
  sheetName: string,
  headers: string[],
  rows: string[][]
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook()
  const sheet = workbook.addWorksheet(sheetName)
  sheet.addRow(headers).font = { bold: true }
  for (const row of rows) sheet.addRow(row)
  sheet.columns.forEach((column) => {
    column.numFmt = '@'
    column.width = 18
  })
  return Buffer.from(await workbook.xlsx.writeBuffer())
}
