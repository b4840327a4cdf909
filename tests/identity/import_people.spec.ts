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

test.serial(
  'reads dates, numbers, booleans, formulas, rich text and gaps from the first XLSX sheet',
  async (t) => {
    const workbook = new ExcelJS.Workbook()
    const sheet = workbook.addWorksheet('人员')
    workbook.addWorksheet('其他').addRow(['not this one'])
    sheet.addRow(['学工号', '预计毕业日期', '入学年份', '住校', '姓名', '', '备注'])
    const row = sheet.addRow([
      'S1',
      new Date(Date.UTC(2027, 5, 30)),
      2023,
      true,
      { richText: [{ text: '王' }, { text: '芳', font: { bold: true } }] },
      null,
      { formula: 'A2&"-x"', result: 'S1-x' },
    ])
    row.getCell(2).numFmt = 'yyyy"年"m"月"d"日"'
    sheet.addRow(['S2', 46203, '13912345678', false, 'a < b & "c"', null, '  padded  '])
    const path = join(folder, 'kinds.xlsx')
    await workbook.xlsx.writeFile(path)
    const read = await readSheet(path)
    t.deepEqual(read.headers, ['学工号', '预计毕业日期', '入学年份', '住校', '姓名', '', '备注'])
    t.deepEqual(read.rows, [
      { line: 2, cells: ['S1', '2027-06-30', '2023', 'true', '王芳', '', 'S1-x'] },
      { line: 3, cells: ['S2', '46203', '13912345678', 'false', 'a < b & "c"', '', 'padded'] },
    ])
  }
)

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

test.serial(
  'the hourly prune deletes uploads and imports left unconfirmed for a day',
  async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { utimesSync } = await import('node:fs')
    const { dbTime } = await import('#appliance/services/jobs')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const { CheckPeopleImport } = await import('#identity/actions/check_people_import')
    const { pruneAbandonedImports, uploadsFolder } =
      await import('#identity/services/import_records')
    const { definedSchedules } = await import('#appliance/services/jobs_registry')
    await import('#identity/services/import_jobs')
    t.true(definedSchedules().some((schedule) => schedule.name === 'identity.prune_imports'))

    const take = async (contents: string) => {
      const result = await new CheckPeopleImport().handle(
        { sourcePath: file(contents), fileName: 'a.csv', locale: 'zh-CN' },
        SYSTEM_ACTOR
      )
      if (!result.ok) throw new Error(result.error)
      return result.value
    }
    const old = await take([HEADER_ZH, ROW_2].join('\n')) // waiting for its dry run
    const unmapped = await take('No.,名字\nX1,某人\n') // waiting for a mapping
    const fresh = await take([HEADER_ZH, ROW_2].join('\n'))
    const finished = await take([HEADER_ZH, ROW_2].join('\n'))
    const now = new Date()
    const dayAgo = dbTime(new Date(now.getTime() - 25 * 3_600_000))
    await db.from('imports').whereIn('public_id', [old, unmapped]).update({ updated_at: dayAgo })
    const storedOf = async (id: string) =>
      (await db.from('imports').where('public_id', id).first())?.stored_path ?? null
    // A finished import, as its job leaves it: no upload any more.
    rmSync(join(uploadsFolder(), (await storedOf(finished))!))
    await db
      .from('imports')
      .where('public_id', finished)
      .update({ status: 'succeeded', stored_path: null, updated_at: dayAgo })
    const stray = join(uploadsFolder(), '1-stray.csv')
    writeFileSync(stray, 'left behind')
    const longAgo = new Date(now.getTime() - 48 * 3_600_000)
    utimesSync(stray, longAgo, longAgo)
    const freshFile = await storedOf(fresh)
    const { readdirSync } = await import('node:fs')
    const filesBefore = readdirSync(uploadsFolder())

    const pruned = await pruneAbandonedImports(now)
    t.deepEqual(pruned, { imports: 2, files: 3 })
    const left = (await db.from('imports').select('public_id')).map((row) => row.public_id)
    t.false(left.includes(old) || left.includes(unmapped))
    t.true(left.includes(fresh) && left.includes(finished))
    t.deepEqual(readdirSync(uploadsFolder()), [freshFile])
    t.is(filesBefore.length, 4)
    t.deepEqual(await pruneAbandonedImports(now), { imports: 0, files: 0 })
  }
)

test.serial(
  'a file of many batches writes every person, tag, history and audit entry as saved one by one',
  async (t) => {
    const { gb11643CheckCharacter } = await import('#identity/services/person_rules')
    const { verifyAuditChain } = await import('#core/services/audit_verify')
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const people = 950
    const rows = [HEADER_ZH]
    for (let index = 0; index < people; index++) {
      const first17 = `44010620000229${String(index % 1000).padStart(3, '0')}`
      rows.push(
        [
          `M${String(index).padStart(5, '0')}`,
          `批量${index}`,
          index % 2 ? '男' : '女',
          '本科生',
          '正常',
          'C04-2301',
          '2023',
          '2027-06-30',
          `137${String(index).padStart(8, '0')}`,
          '',
          '居民身份证',
          first17 + gb11643CheckCharacter(first17),
          index % 3 ? '住校' : '走读；校队',
        ].join(',')
      )
    }
    // A duplicate and a bad row in the last batch refuse the whole file.
    const spoiled = [...rows, rows[1], rows[2].replace('C04-2301', 'NOWHERE')]
    const before = await counts()
    const refused = await apply(file(spoiled.join('\n')))
    t.false(refused.ok)
    if (!refused.ok) {
      const report = refused.details?.report as { errors: { line: number; code: string }[] }
      t.deepEqual(
        report.errors.map((error) => `${error.line} ${error.code}`),
        [`${people + 2} duplicate_in_file`, `${people + 3} duplicate_in_file`]
      )
    }
    t.deepEqual(await counts(), before)

    const result = await apply(file(rows.join('\n')))
    t.like(result, { ok: true, value: { total: people, created: people } })
    const after = await counts()
    t.is(after.people, before.people + people)
    t.is(after.changes, before.changes + people, 'one history entry per person')
    t.is(after.audit, before.audit + people + 1, 'one audit entry per person and the summary')
    const chain = await verifyAuditChain()
    t.true(chain.ok, JSON.stringify(chain))

    const { default: Person } = await import('#identity/models/person')
    const { decryptPii } = await import('#identity/services/pii')
    const sample = await Person.findByOrFail('person_no', 'M00900')
    t.is(sample.name, '批量900')
    t.is(sample.namePinyinInitials.length > 0, true)
    t.is(decryptPii('phone', sample.phoneCiphertext!), '13700000900')
    t.is(sample.phoneMasked, '137****0900')
    t.regex(sample.publicId, /^[0-9A-Z]{26}$/)
    const tags = await db
      .from('person_tags')
      .join('tags', 'tags.id', 'person_tags.tag_id')
      .where('person_tags.person_id', sample.id)
      .orderBy('tags.name')
      .select('tags.name')
    t.deepEqual(
      tags.map((row) => row.name),
      ['校队', '走读']
    )
    const history = await db.from('person_changes').where('person_id', sample.id).first()
    t.is(history.kind, 'created')
    t.like(JSON.parse(history.changes), { phone: [null, '137****0900'] })
    const { searchPeople } = await import('#identity/services/people_directory')
    t.deepEqual(
      (await searchPeople({ q: '13700000900' }, 1, 10)).all().map((one) => one.personNo),
      ['M00900']
    )

    // The same file with other tags and a new name on one row: updates only those.
    const changed = rows.map((row, at) =>
      at === 901 ? row.replace('批量900', '改名900').replace('走读；校队', '住校') : row
    )
    const again = await apply(file(changed.join('\n')))
    t.like(again, { ok: true, value: { created: 0, updated: 1, unchanged: people - 1 } })
    await sample.refresh()
    t.is(sample.name, '改名900')
    const retagged = await db
      .from('person_tags')
      .join('tags', 'tags.id', 'person_tags.tag_id')
      .where('person_tags.person_id', sample.id)
      .select('tags.name')
    t.deepEqual(
      retagged.map((row) => row.name),
      ['住校']
    )
    t.true((await verifyAuditChain()).ok)
  }
)

test.serial('refuses people rows outside the importing account scope', async (t) => {
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const { default: OrgUnit } = await import('#identity/models/org_unit')
  const school = await OrgUnit.findByOrFail('code', 'SCMU')
  const other = await new CreateOrgUnit().handle(
    { parent: { id: school.id }, kind: 'class', code: 'C05-2301', name: '法学2301班' },
    SYSTEM_ACTOR
  )
  if (!other.ok) throw new Error(other.error)
  const inside = await OrgUnit.findByOrFail('code', 'C04-2301')
  const { dryRunPeopleImport } = await import('#identity/services/import_people')
  const { valueLabels } = await import('#identity/services/export_people')
  const rows = [
    HEADER_ZH,
    'S9000001,新同学,男,本科生,正常,C04-2301,2023,,,,,,', // inside
    'S9000002,外院同学,男,本科生,正常,C05-2301,2023,,,,,,', // placed outside
    'S2023101,李小明,男,本科生,正常,C04-2301,2023,,,,,,', // an existing person inside
  ]
  const scope = { kind: 'subtrees' as const, paths: [inside.path] }
  const result = await dryRunPeopleImport(await readSheet(file(rows.join('\n'))), SYSTEM_ACTOR, {
    labels: valueLabels(),
    scope,
  })
  t.true(result.ok)
  if (!result.ok) return
  t.deepEqual(
    result.value.errors.map((error) => `${error.line} ${error.column} ${error.code}`),
    ['3 所属单位代码 org_unit_out_of_scope']
  )
  // Someone who today is in a unit outside the scope cannot be taken in either.
  const { SavePerson } = await import('#identity/actions/save_person')
  await new SavePerson().handle(
    {
      personNo: 'S9000003',
      name: '外院',
      identityType: 'undergraduate',
      orgUnit: { code: 'C05-2301' },
    },
    { mode: 'create' },
    SYSTEM_ACTOR
  )
  const moving = await dryRunPeopleImport(
    await readSheet(
      file([HEADER_ZH, 'S9000003,外院,男,本科生,正常,C04-2301,2023,,,,,,'].join('\n'))
    ),
    SYSTEM_ACTOR,
    { labels: valueLabels(), scope }
  )
  t.like(moving, { ok: true, value: { errors: [{ line: 2, code: 'org_unit_out_of_scope' }] } })
})
