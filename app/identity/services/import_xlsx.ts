import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'
import { createInflateRaw } from 'node:zlib'
import { DateTime } from 'luxon'

/**
 * Reads the rows of the first worksheet of an XLSX file as text, one row at
 * a time, with nothing but Node's zlib.
 *
 * A general spreadsheet library builds a row object, cell objects and style
 * objects for every cell; for an import of 50,000 people that churn alone
 * grows the process by some 200 MB. An import needs the text of each cell
 * and nothing else, so this reader unzips the worksheet as a stream and
 * picks the cells out of each <row> as it arrives: shared strings, inline
 * strings, numbers, booleans, formula results, and dates (numbers in a date
 * format, in the 1900 or 1904 date system).
 */

export class XlsxUnreadable extends Error {}

interface ZipEntry {
  name: string
  method: number
  compressedSize: number
  localHeaderOffset: number
}

const EOCD = 0x06054b50
const ZIP64_LOCATOR = 0x07064b50
const ZIP64_EOCD = 0x06064b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

/** The entries of the zip's central directory. */
async function zipEntries(path: string): Promise<Map<string, ZipEntry>> {
  const file = await open(path, 'r')
  try {
    const { size } = await file.stat()
    const tailLength = Math.min(size, 65_557)
    const tail = Buffer.alloc(tailLength)
    await file.read(tail, 0, tailLength, size - tailLength)
    let at = -1
    for (let index = tailLength - 22; index >= 0; index--) {
      if (tail.readUInt32LE(index) === EOCD) {
        at = index
        break
      }
    }
    if (at < 0) throw new XlsxUnreadable('no end of central directory')
    let count = tail.readUInt16LE(at + 10)
    let directorySize = tail.readUInt32LE(at + 12)
    let directoryOffset = tail.readUInt32LE(at + 16)
    if (directoryOffset === 0xffffffff || count === 0xffff) {
      // ZIP64: the real figures are in the ZIP64 end record the locator points at.
      if (at < 20 || tail.readUInt32LE(at - 20) !== ZIP64_LOCATOR)
        throw new XlsxUnreadable('no zip64 locator')
      const recordOffset = Number(tail.readBigUInt64LE(at - 20 + 8))
      const record = Buffer.alloc(56)
      await file.read(record, 0, 56, recordOffset)
      if (record.readUInt32LE(0) !== ZIP64_EOCD) throw new XlsxUnreadable('no zip64 record')
      count = Number(record.readBigUInt64LE(32))
      directorySize = Number(record.readBigUInt64LE(40))
      directoryOffset = Number(record.readBigUInt64LE(48))
    }
    if (directoryOffset + directorySize > size) throw new XlsxUnreadable('truncated')
    const directory = Buffer.alloc(directorySize)
    await file.read(directory, 0, directorySize, directoryOffset)
    const entries = new Map<string, ZipEntry>()
    let offset = 0
    for (let index = 0; index < count; index++) {
      if (offset + 46 > directory.length || directory.readUInt32LE(offset) !== CENTRAL)
        throw new XlsxUnreadable('bad central directory')
      const method = directory.readUInt16LE(offset + 10)
      let compressedSize = directory.readUInt32LE(offset + 20)
      let uncompressedSize = directory.readUInt32LE(offset + 24)
      const nameLength = directory.readUInt16LE(offset + 28)
      const extraLength = directory.readUInt16LE(offset + 30)
      const commentLength = directory.readUInt16LE(offset + 32)
      let localHeaderOffset = directory.readUInt32LE(offset + 42)
      const name = directory.toString('utf8', offset + 46, offset + 46 + nameLength)
      // ZIP64 extra field: the 64-bit values of the fields set to 0xffffffff, in order.
      let extra = offset + 46 + nameLength
      const extraEnd = extra + extraLength
      while (extra + 4 <= extraEnd) {
        const id = directory.readUInt16LE(extra)
        const length = directory.readUInt16LE(extra + 2)
        if (id === 0x0001) {
          let field = extra + 4
          if (uncompressedSize === 0xffffffff) {
            uncompressedSize = Number(directory.readBigUInt64LE(field))
            field += 8
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = Number(directory.readBigUInt64LE(field))
            field += 8
          }
          if (localHeaderOffset === 0xffffffff)
            localHeaderOffset = Number(directory.readBigUInt64LE(field))
        }
        extra += 4 + length
      }
      entries.set(name.replace(/^\/+/, ''), { name, method, compressedSize, localHeaderOffset })
      offset = extraEnd + commentLength
    }
    return entries
  } finally {
    await file.close()
  }
}

/** The text of a zip entry, decoded as UTF-8, chunk by chunk. */
async function* entryText(path: string, entry: ZipEntry): AsyncGenerator<string> {
  const file = await open(path, 'r')
  const header = Buffer.alloc(30)
  try {
    await file.read(header, 0, 30, entry.localHeaderOffset)
  } finally {
    await file.close()
  }
  if (header.readUInt32LE(0) !== LOCAL) throw new XlsxUnreadable('bad local header')
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28)
  if (entry.method !== 0 && entry.method !== 8)
    throw new XlsxUnreadable(`compression ${entry.method}`)
  if (entry.compressedSize === 0) return
  const raw = createReadStream(path, { start, end: start + entry.compressedSize - 1 })
  const source = entry.method === 8 ? raw.pipe(createInflateRaw()) : raw
  const decoder = new StringDecoder('utf8')
  try {
    for await (const chunk of source) yield decoder.write(chunk as Buffer)
    const rest = decoder.end()
    if (rest) yield rest
  } catch (error) {
    throw new XlsxUnreadable(`unzip: ${(error as Error).message}`)
  } finally {
    raw.destroy()
  }
}

async function wholeEntry(path: string, entry: ZipEntry | undefined): Promise<string | null> {
  if (!entry) return null
  let text = ''
  for await (const chunk of entryText(path, entry)) text += chunk
  return text
}

const ENTITY = /&(?:#x([0-9a-fA-F]+)|#(\d+)|(lt|gt|amp|quot|apos));/g
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** XML text with its character references replaced. */
function unescapeXml(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(ENTITY, (_, hex, decimal, named) =>
    named ? NAMED[named] : String.fromCodePoint(Number.parseInt(hex ?? decimal, hex ? 16 : 10))
  )
}

/** Attributes of a start tag ('r="A1" t="s"'), prefixes dropped from their names. */
function attributes(text: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const match of text.matchAll(/([\w.-]+:)?([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    found[match[2]] = unescapeXml(match[3] ?? match[4])
  }
  return found
}

/** The text of every <t> in a fragment, phonetic runs (<rPh>) left out. */
function runsText(fragment: string): string {
  const plain = fragment.replace(/<(?:[\w.-]+:)?rPh\b[\s\S]*?<\/(?:[\w.-]+:)?rPh>/g, '')
  let text = ''
  for (const match of plain.matchAll(/<(?:[\w.-]+:)?t(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?t>/g))
    text += match[1]
  return unescapeXml(text)
}

/** The shared strings table. */
function sharedStrings(xml: string | null): string[] {
  if (!xml) return []
  const strings: string[] = []
  for (const match of xml.matchAll(
    /<(?:[\w.-]+:)?si\b[^>]*?(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?si>)/g
  ))
    strings.push(match[1] === undefined ? '' : runsText(match[1]))
  return strings
}

/** Built-in number formats that are dates or times (ECMA-376 18.8.30, East Asian ones included). */
const DATE_FORMAT_IDS = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51,
  52, 53, 54, 55, 56, 57, 58,
])

/** True when a number format code shows a date or time (text in quotes and brackets ignored). */
function isDateFormat(code: string): boolean {
  const bare = code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, '')
  return /[ymdhsb]/i.test(bare)
}

/** For each cell style index, whether it formats numbers as dates. */
function dateStyles(xml: string | null): boolean[] {
  if (!xml) return []
  const custom = new Map<number, string>()
  for (const match of xml.matchAll(/<(?:[\w.-]+:)?numFmt\b([^>]*?)\/?>/g)) {
    const found = attributes(match[1])
    if (found.numFmtId) custom.set(Number(found.numFmtId), found.formatCode ?? '')
  }
  const cellXfs = /<(?:[\w.-]+:)?cellXfs\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?cellXfs>/.exec(xml)
  if (!cellXfs) return []
  const styles: boolean[] = []
  for (const match of cellXfs[1].matchAll(/<(?:[\w.-]+:)?xf\b([^>]*?)(?:\/>|>)/g)) {
    const id = Number(attributes(match[1]).numFmtId ?? 0)
    const code = custom.get(id)
    styles.push(code === undefined ? DATE_FORMAT_IDS.has(id) : isDateFormat(code))
  }
  return styles
}

/** The path inside the zip of the workbook's first sheet, in the order the workbook lists them. */
function firstSheetPath(
  workbook: string | null,
  relations: string | null,
  entries: Map<string, ZipEntry>
): string | null {
  const sheet = workbook ? /<(?:[\w.-]+:)?sheet\b([^>]*?)\/?>/.exec(workbook) : null
  const id = sheet ? attributes(sheet[1]).id : undefined
  if (id && relations) {
    for (const match of relations.matchAll(/<(?:[\w.-]+:)?Relationship\b([^>]*?)\/?>/g)) {
      const relation = attributes(match[1])
      if (relation.Id !== id || !relation.Target) continue
      const target = relation.Target.startsWith('/')
        ? relation.Target.slice(1)
        : `xl/${relation.Target}`.replace(/\/\.\//g, '/')
      if (entries.has(target)) return target
    }
  }
  // Without a usable workbook part: the sheet with the lowest number.
  const sheets = [...entries.keys()]
    .map((name) => /^xl\/worksheets\/sheet(\d+)\.xml$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .sort((one, other) => Number(one[1]) - Number(other[1]))
  return sheets[0]?.[0] ?? null
}

/** 1 for "A", 27 for "AA": the column of a cell reference such as "AB12". */
function columnOf(reference: string): number {
  let column = 0
  for (const character of reference) {
    const code = character.charCodeAt(0)
    if (code < 65 || code > 90) break
    column = column * 26 + code - 64
  }
  return column
}

/** Text of a date, as the importers expect it: "2027-06-30", or ISO with a time of day. */
function dateText(serial: number, date1904: boolean): string {
  const millis = Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000)
  const date = DateTime.fromMillis(millis, { zone: 'utc' })
  if (!date.isValid) return String(serial)
  return date.hour || date.minute || date.second ? date.toISO()! : date.toISODate()!
}

const ROW = /<(?:[\w.-]+:)?row\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?row>)/g
const CELL = /<(?:[\w.-]+:)?c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?c>)/g
const VALUE = /<(?:[\w.-]+:)?v(?:\s[^>]*)?>([\s\S]*?)<\/(?:[\w.-]+:)?v>/
const INLINE = /<(?:[\w.-]+:)?is\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?is>/

/**
 * The rows of the first worksheet: the row number Excel shows and the text
 * of each cell (columns without a cell are empty). Rows without cells are
 * skipped. Throws XlsxUnreadable when the file is no readable workbook.
 */
export async function* xlsxRows(path: string): AsyncGenerator<{ line: number; cells: string[] }> {
  const entries = await zipEntries(path)
  const workbook = await wholeEntry(path, entries.get('xl/workbook.xml'))
  const sheetPath = firstSheetPath(
    workbook,
    await wholeEntry(path, entries.get('xl/_rels/workbook.xml.rels')),
    entries
  )
  if (!sheetPath) throw new XlsxUnreadable('no worksheet')
  const date1904 = workbook
    ? /<(?:[\w.-]+:)?workbookPr\b[^>]*\bdate1904\s*=\s*["'](?:1|true)["']/.test(workbook)
    : false
  const strings = sharedStrings(await wholeEntry(path, entries.get('xl/sharedStrings.xml')))
  const dates = dateStyles(await wholeEntry(path, entries.get('xl/styles.xml')))

  let buffer = ''
  let lastLine = 0
  for await (const chunk of entryText(path, entries.get(sheetPath)!)) {
    buffer += chunk
    ROW.lastIndex = 0
    let consumed = 0
    for (let match = ROW.exec(buffer); match; match = ROW.exec(buffer)) {
      consumed = ROW.lastIndex
      const line = Number(attributes(match[1]).r) || lastLine + 1
      lastLine = line
      if (!match[2]) continue
      const cells: string[] = []
      let column = 0
      for (const cell of match[2].matchAll(CELL)) {
        const found = attributes(cell[1])
        column = found.r ? columnOf(found.r) : column + 1
        if (column < 1) continue
        const inner = cell[2] ?? ''
        const value = VALUE.exec(inner)?.[1]
        let text = ''
        switch (found.t) {
          case 's':
            text = value === undefined ? '' : (strings[Number(value)] ?? '')
            break
          case 'inlineStr': {
            const inline = INLINE.exec(inner)
            text = inline ? runsText(inline[1]) : unescapeXml(value ?? '')
            break
          }
          case 'str':
            text = unescapeXml(value ?? '')
            break
          case 'b':
            text = value === undefined ? '' : String(Number(value) !== 0)
            break
          case 'e':
            text = ''
            break
          default: {
            if (value === undefined || value.trim() === '') break
            const number = Number.parseFloat(value)
            if (Number.isNaN(number)) text = unescapeXml(value)
            else if (dates[Number(found.s ?? 0)]) text = dateText(number, date1904)
            else text = String(number)
          }
        }
        while (cells.length < column - 1) cells.push('')
        cells[column - 1] = text.trim()
      }
      yield { line, cells }
    }
    buffer = buffer.slice(consumed)
  }
}
