import test from 'ava'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import ExcelJS from 'exceljs'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp
const folder = mkdtempSync(join(tmpdir(), 'quad-import-'))

const HEADER_ZH =
  '学工号,姓名,性别,身份类型,状态,所属单位代码,入学年份,预计毕业日期,手机号,邮箱,证件类型,证件号码,标签'
const ROW_1 =
  'S2023101,李小明,男,本科生,正常,C04-2301,2023,2027-06-30,13912345678,li@example.edu.cn,居民身份证,440106200002291238,住校'
const ROW_2 = 'S2023102,王芳,女,本科生,正常,C04-2301,2023,2027-06-30,,,,,'

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()
  const create = new CreateOrgUnit()
  const school = await create.handle(
    { parent: null, kind: 'school', code: 'SCMU', name: '华南示范大学' },
    SYSTEM_ACTOR
  )
  if (!school.ok) throw new Error(school.error)
  const unit = await create.handle(
    { parent: { id: school.value.id }, kind: 'class', code: 'C04-2301', name: '计科2301班' },
    SYSTEM_ACTOR
  )
  if (!unit.ok) throw new Error(unit.error)
})

test.after.always(async () => {
  rmSync(folder, { recursive: true, force: true })
  await quad?.close()
})

let fileCount = 0
function file(contents: Buffer | string, extension = 'csv'): string {
  const path = join(folder, `upload-${++fileCount}.${extension}`)
  writeFileSync(path, contents)
  return path
}

async function xlsx(rows: string[][]): Promise<string> {
  const workbook = new ExcelJS.Workbook()
  const sheet = workbook.addWorksheet('人员')
  for (const row of rows) sheet.addRow(row)
  return file(Buffer.from(await workbook.xlsx.writeBuffer()), 'xlsx')
}

async function readSheet(path: string) {
  const { readSpreadsheet } = await import('#identity/services/spreadsheet')
  const sheet = await readSpreadsheet(path)
  if (!sheet.ok) throw new Error(sheet.error)
  return sheet.value
}

async function counts() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const one = async (table: string) =>
    Number((await db.from(table).count('* as total').first())!.total)
  return {
    people: await one('people'),
    audit: await one('audit_entries'),
    changes: await one('person_changes'),
  }
}

async function dryRun(path: string) {
  const { dryRunPeopleImport } = await import('#identity/services/import_people')
  const { valueLabels } = await import('#identity/services/export_people')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  return dryRunPeopleImport(await readSheet(path), SYSTEM_ACTOR, { labels: valueLabels() })
}

async function apply(path: string) {
  const { applyPeopleImport } = await import('#identity/services/import_people')
  const { valueLabels } = await import('#identity/services/export_people')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  return applyPeopleImport(await readSheet(path), SYSTEM_ACTOR, { labels: valueLabels() })
}

test.serial('reads the same rows from UTF-8 with and without BOM, GBK and XLSX', async (t) => {
  const text = `${HEADER_ZH}\r\n${ROW_1}\r\n"S2023102","王芳, ""小芳""",女,本科生,正常,C04-2301,2023,,,,,,\r\n`
  const utf8 = await readSheet(file(text))
  const bom = await readSheet(
    file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))
  )
  const gbk = await readSheet(file(iconv.encode(text, 'gbk')))
  const excel = await readSheet(
    await xlsx(
      text
        .trim()
        .split('\r\n')
        .map((line) =>
          line.startsWith('"')
            ? [
                'S2023102',
                '王芳, "小芳"',
                '女',
                '本科生',
                '正常',
                'C04-2301',
                '2023',
                '',
                '',
                '',
                '',
                '',
                '',
              ]
            : line.split(',')
        )
    )
  )
  t.is(utf8.headers[0], '学工号')
  t.deepEqual(bom, { ...utf8 })
  t.deepEqual(gbk, { ...utf8 })
  t.deepEqual(excel.headers, utf8.headers)
  t.deepEqual(
    excel.rows.map((row) => row.cells.filter(Boolean)),
    utf8.rows.map((row) => row.cells.filter(Boolean))
  )
  t.is(utf8.rows[1].cells[1], '王芳, "小芳"')
  t.is(utf8.rows[1].line, 3)
})

test.serial('reads Chinese text of a large streamed XLSX without broken characters', async (t) => {
  // Inline strings, as streaming writers produce them: thousands of rows put
  // characters across the reader's decompression chunk boundaries.
  const path = join(folder, 'large.xlsx')
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: false })
  const sheet = writer.addWorksheet('人员')
  const surnames = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'
  const given = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平'
  for (let index = 0; index < 5000; index++) {
    const name = `${surnames[index % 20]}${given[(index * 7) % 20]}`
    sheet
      .addRow([
        `B${index}`,
        name,
        index % 2 ? '男' : '女',
        '本科生',
        'K001',
        '2023',
        'b@example.edu.cn',
        '居民身份证',
        index % 3 ? '住校' : '',
      ])
      .commit()
  }
  sheet.commit()
  await writer.commit()
  const read = await readSheet(path)
  t.is(read.rows.length, 4999)
  const broken = read.rows.filter((row) => row.cells.join('').includes('\uFFFD'))
  t.deepEqual(broken, [])
})

test.serial('refuses empty, oversized and non-spreadsheet files', async (t) => {
  const { readSpreadsheet } = await import('#identity/services/spreadsheet')
  t.like(await readSpreadsheet(file('')), { ok: false, error: 'empty_file' })
  t.like(await readSpreadsheet(file('\r\n\r\n')), { ok: false, error: 'empty_file' })
  const big = `${HEADER_ZH}\n${ROW_1}\n${ROW_2}\n`
  t.like(await readSpreadsheet(file(big), { maxBytes: 100, maxRows: 10 }), {
    ok: false,
    error: 'file_too_large',
  })
  t.like(await readSpreadsheet(file(big), { maxBytes: 10_000, maxRows: 1 }), {
    ok: false,
    error: 'too_many_rows',
  })
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
  t.like(await readSpreadsheet(file(png)), { ok: false, error: 'not_spreadsheet' })
  t.like(await readSpreadsheet(file(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), 'xlsx')), {
    ok: false,
    error: 'not_spreadsheet',
  })
  t.like(await readSpreadsheet(file(Buffer.from([0x41, 0x00, 0x01, 0x02, 0x42]))), {
    ok: false,
    error: 'not_spreadsheet',
  })
})

test.serial('names missing required columns and unknown headers', async (t) => {
  const result = await dryRun(file('学工号,名字,性别\nS1,张三,男\n'))
  t.false(result.ok)
  if (result.ok) return
  t.is(result.error, 'columns')
  t.deepEqual(result.details?.missing, ['name', 'identity_type', 'org_unit_code'])
  t.deepEqual(result.details?.unknown, ['名字'])
})

test.serial('a dry run reports every bad cell by row and header and writes nothing', async (t) => {
  const before = await counts()
  const rows = [
    HEADER_ZH,
    ROW_1,
    'S2023103,赵六,男,本科生,正常,X-NOPE,2023,,,,居民身份证,440106200002291239,',
    ROW_2,
    'S2023101,李小明,男,本科生,正常,C04-2301,2023,,,,,,',
    's2023104,钱七,男,外星人,正常,C04-2301,2023,,12345,,,,',
  ]
  const result = await dryRun(file(rows.join('\n')))
  t.true(result.ok)
  if (!result.ok) return
  t.is(result.value.total, 5)
  const errors = result.value.errors.map((error) => `${error.line} ${error.column} ${error.code}`)
  t.deepEqual(errors.toSorted(), [
    '3 所属单位代码 org_unit_unknown',
    '3 证件号码 id_check_digit',
    '5 学工号 duplicate_in_file',
    '6 手机号 phone_format',
    '6 身份类型 invalid_choice',
  ])
  t.deepEqual(await counts(), before, 'nothing written, not even audit entries')
})

test.serial('an import with one bad row imports nothing', async (t) => {
  const before = await counts()
  const result = await apply(
    file([HEADER_ZH, ROW_1, ROW_2.replace('C04-2301', 'NOWHERE')].join('\n'))
  )
  t.false(result.ok)
  if (result.ok) return
  t.is(result.error, 'rows_invalid')
  t.deepEqual(await counts(), before)
})

test.serial('imports all rows once; the same file again changes nothing', async (t) => {
  const path = file([HEADER_ZH, ROW_1, ROW_2].join('\n'))
  const first = await apply(path)
  t.like(first, { ok: true, value: { total: 2, created: 2, updated: 0, unchanged: 0 } })
  const { default: Person } = await import('#identity/models/person')
  const li = await Person.findByOrFail('person_no', 'S2023101')
  t.is(li.phoneMasked, '139****5678')
  t.is(li.idDocMasked, '4401**********1238')
  t.is(li.gender, 'male')
  const after = await counts()

  const second = await apply(path)
  t.like(second, { ok: true, value: { total: 2, created: 0, updated: 0, unchanged: 2 } })
  const again = await counts()
  t.is(again.people, after.people)
  t.is(again.changes, after.changes, 'no history entry')
  t.is(again.audit, after.audit + 1, 'only the summary entry of the import')
})

test.serial('updates by person number with English headers and values from XLSX', async (t) => {
  const path = await xlsx([
    ['person_no', 'name', 'gender', 'identity_type', 'org_unit_code', 'enrollment_year', 'Tags'],
    ['s2023102', 'Wang Fang', 'Female', 'Postgraduate', 'C04-2301', '2024', 'a, b'],
  ])
  const result = await apply(path)
  t.like(result, { ok: true, value: { created: 0, updated: 1 } })
  const { default: Person } = await import('#identity/models/person')
  const wang = await Person.findByOrFail('person_no', 'S2023102')
  t.is(wang.name, 'Wang Fang')
  t.is(wang.identityType, 'postgraduate')
  t.is(wang.enrollmentYear, 2024)
})

for (const format of ['csv', 'xlsx'] as const) {
  for (const revealPii of [false, true]) {
    test.serial(
      `an ${format} export (${revealPii ? 'full' : 'masked'}) imports back unchanged`,
      async (t) => {
        const { exportPeopleRows } = await import('#identity/services/export_people')
        const { writeCsv, writeXlsx } = await import('#identity/services/spreadsheet')
        for (const locale of ['zh-CN', 'en']) {
          const { headers, rows } = await exportPeopleRows({}, { locale, revealPii })
          t.true(rows.length >= 2)
          const bytes =
            format === 'csv' ? writeCsv(headers, rows) : await writeXlsx('people', headers, rows)
          const before = await counts()
          const result = await apply(file(bytes, format))
          t.like(
            result,
            { ok: true, value: { created: 0, updated: 0, unchanged: rows.length } },
            locale
          )
          t.is((await counts()).changes, before.changes)
        }
      }
    )
  }
}
