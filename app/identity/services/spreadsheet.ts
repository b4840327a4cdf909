import { createReadStream } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { stat } from 'node:fs/promises'
import { DateTime } from 'luxon'
import iconv from 'iconv-lite'
import ExcelJS from 'exceljs'
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

export interface Sheet {
  format: SpreadsheetFormat
  /** Header texts as written in the file. */
  headers: string[]
  /** Data rows; `line` is the row number the user sees in Excel (the header is row 1). */
  rows: { line: number; cells: string[] }[]
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

/** Splits CSV text into records (RFC 4180: quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = []
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
      records.push(record)
      record = []
      field = ''
    } else field += character
  }
  if (field !== '' || record.length > 0) {
    record.push(field)
    records.push(record)
  }
  return records
}

/** Decodes UTF-8 chunks without cutting a character in two where one chunk ends. */
async function* utf8Chunks(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  for await (const chunk of chunks) yield typeof chunk === 'string' ? chunk : decoder.write(chunk)
  const rest = decoder.end()
  if (rest) yield rest
}

/**
 * exceljs 4.4's streaming reader decodes each decompressed chunk on its
 * own, so a Chinese character that straddles two chunks comes out as "��"
 * (exceljs issues #2063, #2084; about one cell in a few thousand). Its
 * worksheet and shared-strings parsers accept strings, so they are handed
 * text decoded across chunk boundaries instead.
 */
function decodeXlsxAcrossChunks() {
  const prototype = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as {
    _parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string): unknown
    _parseSharedStrings(entry: { setEncoding(encoding: string): void }): unknown
    __quadUtf8?: boolean
  }
  if (prototype.__quadUtf8) return
  const parseWorksheet = prototype._parseWorksheet
  const parseSharedStrings = prototype._parseSharedStrings
  prototype._parseWorksheet = function (iterator, sheetNo) {
    return parseWorksheet.call(this, utf8Chunks(iterator), sheetNo)
  }
  prototype._parseSharedStrings = function (entry) {
    entry.setEncoding('utf8')
    return parseSharedStrings.call(this, entry)
  }
  prototype.__quadUtf8 = true
}
decodeXlsxAcrossChunks()

/** The text of an XLSX cell value, whatever exceljs made of it. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) {
    const date = DateTime.fromJSDate(value, { zone: 'utc' })
    return date.hour || date.minute || date.second ? date.toISO()! : date.toISODate()!
  }
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>
    if (Array.isArray(object.richText))
      return object.richText.map((part: { text: string }) => part.text).join('')
    if ('result' in object) return cellText(object.result)
    if ('text' in object) return cellText(object.text)
    if ('error' in object) return ''
    return ''
  }
  return String(value)
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

/** Builds the sheet from raw records, applying the row limit. */
function toSheet(
  format: SpreadsheetFormat,
  records: { line: number; cells: string[] }[],
  limits: SpreadsheetLimits
): Result<Sheet, SpreadsheetError> {
  const headerIndex = records.findIndex((record) => !isBlank(record.cells))
  if (headerIndex < 0) return fail('empty_file')
  const header = records[headerIndex]
  const rows = records.slice(headerIndex + 1).filter((record) => !isBlank(record.cells))
  if (rows.length > limits.maxRows) return fail('too_many_rows', { limit: limits.maxRows })
  const headers = header.cells.map((cell) => cell.replace(/^\uFEFF/, '').trim())
  if (headers.every((cell) => cell === '')) return fail('no_header')
  return ok({ format, headers, rows })
}

async function readXlsx(
  path: string,
  limits: SpreadsheetLimits
): Promise<Result<Sheet, SpreadsheetError>> {
  const records: { line: number; cells: string[] }[] = []
  // A zip without a worksheet (a .docx, a .zip) is no spreadsheet.
  let sawSheet = false
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(createReadStream(path), {
      sharedStrings: 'cache',
      styles: 'cache',
      hyperlinks: 'ignore',
      worksheets: 'emit',
      entries: 'emit',
    })
    for await (const worksheet of reader) {
      sawSheet = true
      for await (const row of worksheet) {
        const values = (row.values ?? []) as unknown[]
        const cells: string[] = []
        for (let column = 1; column < values.length; column++) {
          cells.push(cellText(values[column]).trim())
        }
        records.push({ line: row.number, cells })
        // The header plus the limit, and one more to know it was exceeded.
        if (records.length > limits.maxRows + 1) break
      }
      // Only the first sheet counts.
      break
    }
  } catch {
    return fail('not_spreadsheet')
  }
  if (!sawSheet) return fail('not_spreadsheet')
  return toSheet('xlsx', records, limits)
}

/**
 * Reads a CSV or XLSX file into header texts and data rows. Refuses empty
 * and oversized files and anything that is not a spreadsheet (judged by the
 * first bytes and by decoding, never by the file name alone).
 */
export async function readSpreadsheet(
  path: string,
  limits: SpreadsheetLimits = DEFAULT_LIMITS
): Promise<Result<Sheet, SpreadsheetError>> {
  const { size } = await stat(path)
  if (size === 0) return fail('empty_file')
  if (size > limits.maxBytes) return fail('file_too_large', { limit: limits.maxBytes })
  const handle = createReadStream(path, { start: 0, end: 7 })
  const chunks: Buffer[] = []
  for await (const chunk of handle) chunks.push(chunk as Buffer)
  const head = Buffer.concat(chunks)
  if (head.subarray(0, 4).equals(ZIP)) return readXlsx(path, limits)
  if (FOREIGN_MAGIC.some((magic) => head.subarray(0, magic.length).equals(magic)))
    return fail('not_spreadsheet')

  const { readFile } = await import('node:fs/promises')
  const text = decodeCsv(await readFile(path))
  // Control characters other than tab and line breaks mean binary data.
  if (hasControlCharacters(text)) return fail('not_spreadsheet')
  const records = parseCsv(text).map((cells, index) => ({
    line: index + 1,
    cells: cells.map((cell) => cell.trim()),
  }))
  return toSheet('csv', records, limits)
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
