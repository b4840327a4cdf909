/**
 * Import of a people spreadsheet: generates an XLSX of 50,000 people (every
 * column filled, resident ID numbers with valid check digits), then times
 * opening it as the import job does (one pass to find the header and count
 * the rows), the dry run and the confirmed import (one transaction, reading
 * the file again row by row), and a second import of the same file (every
 * row unchanged). Prints times and the peak resident memory of the
 * process. Target on SQLite: under 60 s and 500 MB for the import.
 *
 *   npm run bench import [-- --people 50000 --db sqlite|pg]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { option, ranOnEachDatabase } from './support/cli.js'

/** Peak resident memory of this process so far, in MB. */
function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024)
}

/** Peak RSS, and the JavaScript heap in use now: how much of the peak is live data. */
function memory(): string {
  return `peak ${peakRssMb()} MB RSS, heap in use ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`
}

async function writeSheet(
  path: string,
  people: number,
  units: string[],
  checkCharacter: (first17: string) => string
) {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: path,
    useSharedStrings: false,
  })
  const sheet = workbook.addWorksheet('人员')
  sheet
    .addRow([
      '学工号',
      '姓名',
      '性别',
      '身份类型',
      '状态',
      '所属单位代码',
      '入学年份',
      '预计毕业日期',
      '手机号',
      '邮箱',
      '证件类型',
      '证件号码',
      '标签',
    ])
    .commit()
  const surnames = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'
  const given = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平'
  for (let index = 0; index < people; index++) {
    const year = 2020 + (index % 6)
    const birth = `${year - 18}0${1 + (index % 9)}${String(1 + (index % 28)).padStart(2, '0')}`
    const first17 = `440106${birth}${String(index % 1000).padStart(3, '0')}`
    sheet
      .addRow([
        `B${String(index).padStart(7, '0')}`,
        `${surnames[index % surnames.length]}${given[(index * 7) % given.length]}${given[(index * 3) % given.length]}`,
        index % 2 ? '男' : '女',
        index % 10 === 0 ? '研究生' : '本科生',
        '正常',
        units[index % units.length],
        String(year),
        `${year + 4}-06-30`,
        `139${String(index).padStart(8, '0')}`,
        `b${index}@example.edu.cn`,
        '居民身份证',
        first17 + checkCharacter(first17),
        index % 3 ? '住校' : '',
      ])
      .commit()
  }
  sheet.commit()
  await workbook.commit()
}

export default async function importBench(args: string[]) {
  if (await ranOnEachDatabase('import', args)) return
  const people = Number(option(args, 'people', '50000'))

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp({ http: false })
  let folder: string | null = null
  try {
    const { givenSchool } = await import('../tests/helpers/fixtures.js')
    const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const { gb11643CheckCharacter } = await import('#identity/services/person_rules')
    const { openSpreadsheet } = await import('#identity/services/spreadsheet')
    const { dryRunPeopleImport, applyPeopleImport } =
      await import('#identity/services/import_people')
    const { valueLabels } = await import('#identity/services/export_people')
    await givenSchool()
    const create = new CreateOrgUnit()
    const school = await create.handle(
      { parent: null, kind: 'school', code: 'SCMU', name: '示范大学' },
      SYSTEM_ACTOR
    )
    if (!school.ok) throw new Error(school.error)
    const units: string[] = []
    for (let index = 0; index < 40; index++) {
      const code = `K${String(index).padStart(3, '0')}`
      const unit = await create.handle(
        { parent: { id: school.value.id }, kind: 'class', code, name: `班级${index}` },
        SYSTEM_ACTOR
      )
      if (!unit.ok) throw new Error(unit.error)
      units.push(code)
    }

    folder = mkdtempSync(join(tmpdir(), 'quad-bench-import-'))
    const path = join(folder, 'people.xlsx')
    let started = performance.now()
    await writeSheet(path, people, units, gb11643CheckCharacter)
    console.log(`\nimport of ${people.toLocaleString('en')} people from XLSX on ${quad.dialect}`)
    console.log(`  generate file: ${((performance.now() - started) / 1000).toFixed(1)} s`)

    started = performance.now()
    const sheet = await openSpreadsheet(path)
    if (!sheet.ok) throw new Error(sheet.error)
    const read = (performance.now() - started) / 1000
    console.log(`  open: ${read.toFixed(1)} s (${sheet.value.rowCount} rows), ${memory()}`)

    const labels = valueLabels()
    started = performance.now()
    const dry = await dryRunPeopleImport(sheet.value, SYSTEM_ACTOR, { labels })
    if (!dry.ok || dry.value.errors.length) throw new Error(JSON.stringify(dry).slice(0, 500))
    console.log(`  dry run: ${((performance.now() - started) / 1000).toFixed(1)} s, ${memory()}`)

    started = performance.now()
    const first = await applyPeopleImport(sheet.value, SYSTEM_ACTOR, { labels })
    if (!first.ok) throw new Error(first.error)
    const imported = (performance.now() - started) / 1000
    console.log(
      `  import: ${imported.toFixed(1)} s (${first.value.created} created); open + import ${(read + imported).toFixed(1)} s, ${memory()}`
    )

    started = performance.now()
    const second = await applyPeopleImport(sheet.value, SYSTEM_ACTOR, { labels })
    if (!second.ok || second.value.unchanged !== people)
      throw new Error('second import changed rows')
    console.log(
      `  same file again: ${((performance.now() - started) / 1000).toFixed(1)} s (all unchanged)`
    )
    console.log(`  end: ${memory()}`)
  } finally {
    if (folder) rmSync(folder, { recursive: true, force: true })
    await quad.close()
  }
}
