import { fail, ok, type Result } from '#core/services/result'
import { readSpreadsheet, type SpreadsheetError } from '#identity/services/spreadsheet'
import type { ListedPerson } from '#cards/models/card_issuance'

/**
 * Lists of person numbers for a targeted issuance, pasted into a text box
 * or uploaded as CSV/XLSX. Each number keeps the line it was read from, so
 * that the issuance can say "line 7: no such person".
 */

/** The most people one list issuance takes. */
export const MAX_LISTED = 50_000

/** Person numbers as the registry stores them (upper case). */
export const PERSON_NO = /^[A-Z0-9][A-Z0-9_-]{0,31}$/

const SEPARATORS = /[\s,;，；、]+/

/** Headers that name the person number column. */
const PERSON_NO_HEADER = /^(学工号|学号|工号|人员编号|person[ _]?no|person[ _]?number)$/i

export type PersonListError = SpreadsheetError | 'list_empty' | 'list_too_long'

function finish(listed: ListedPerson[]): Result<ListedPerson[], PersonListError> {
  if (listed.length === 0) return fail('list_empty')
  if (listed.length > MAX_LISTED) return fail('list_too_long', { limit: MAX_LISTED })
  return ok(listed)
}

/** Numbers separated by new lines, commas, semicolons or spaces. */
export function parsePastedList(text: string): Result<ListedPerson[], PersonListError> {
  const listed: ListedPerson[] = []
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    for (const value of line.split(SEPARATORS)) {
      if (value) listed.push({ line: index + 1, personNo: value.toUpperCase() })
    }
  }
  return finish(listed)
}

/**
 * The person number column of a CSV or XLSX file: the column headed
 * 学工号 (or person_no), or else the first column, the first row included
 * when it holds a number rather than a header.
 */
export async function readListFile(path: string): Promise<Result<ListedPerson[], PersonListError>> {
  const sheet = await readSpreadsheet(path, { maxBytes: 5 * 1024 * 1024, maxRows: MAX_LISTED })
  if (!sheet.ok) return sheet
  const { headers, rows } = sheet.value
  const headed = headers.findIndex((header) => PERSON_NO_HEADER.test(header.trim()))
  const column = Math.max(0, headed)
  const listed: ListedPerson[] = []
  if (headed < 0 && PERSON_NO.test((headers[0] ?? '').toUpperCase())) {
    listed.push({ line: 1, personNo: headers[0].toUpperCase() })
  }
  for (const row of rows) {
    const value = (row.cells[column] ?? '').trim()
    if (value) listed.push({ line: row.line, personNo: value.toUpperCase() })
  }
  return finish(listed)
}
