import test from 'ava'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type OrgUnit from '#identity/models/org_unit'

let quad: TestApp
const folder = mkdtempSync(join(tmpdir(), 'quad-org-import-'))

const HEADER = '单位代码,单位名称,单位类型,上级单位代码,排序,是否停用'

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  await givenSchool()
})

test.after.always(async () => {
  rmSync(folder, { recursive: true, force: true })
  await quad?.close()
})

let fileCount = 0
function file(contents: Buffer | string, extension = 'csv'): string {
  const path = join(folder, `org-${++fileCount}.${extension}`)
  writeFileSync(path, contents)
  return path
}

async function sheetOf(path: string) {
  const { openSpreadsheet } = await import('#identity/services/spreadsheet')
  const sheet = await openSpreadsheet(path)
  if (!sheet.ok) throw new Error(sheet.error)
  return sheet.value
}

async function labels() {
  const { orgValueLabels } = await import('#identity/services/export_org_units')
  return orgValueLabels()
}

async function apply(path: string, scope?: import('#identity/services/org_scope').OrgScope) {
  const { applyOrgUnitImport } = await import('#identity/services/import_org_units')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  return applyOrgUnitImport(await sheetOf(path), SYSTEM_ACTOR, { labels: await labels(), scope })
}

async function dryRun(path: string, scope?: import('#identity/services/org_scope').OrgScope) {
  const { dryRunOrgUnitImport } = await import('#identity/services/import_org_units')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  return dryRunOrgUnitImport(await sheetOf(path), SYSTEM_ACTOR, { labels: await labels(), scope })
}

async function unit(code: string): Promise<OrgUnit> {
  const { default: OrgUnitModel } = await import('#identity/models/org_unit')
  return OrgUnitModel.findByOrFail('code', code)
}

async function counts() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const one = async (table: string) =>
    Number((await db.from(table).count('* as total').first())!.total)
  return {
    units: await one('org_units'),
    audit: await one('audit_entries'),
    changes: await one('org_unit_changes'),
  }
}

/** Every unit's path is its parent's path plus its own id, and its depth matches. */
async function treeIsConsistent() {
  const { default: OrgUnitModel } = await import('#identity/models/org_unit')
  const units = await OrgUnitModel.all()
  const byId = new Map(units.map((one) => [one.id, one]))
  return units.every((one) => {
    const parent = one.parentId ? byId.get(one.parentId) : null
    return (
      one.path === `${parent ? parent.path : '/'}${one.id}/` &&
      one.depth === (parent ? parent.depth + 1 : 0)
    )
  })
}

async function historyKinds(code: string): Promise<string[]> {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const target = await unit(code)
  const rows = await db
    .from('org_unit_changes')
    .where('org_unit_id', target.id)
    .orderBy('id')
    .select('kind')
  return rows.map((row) => row.kind)
}

function errorsOf(report: { errors: { line: number; column: string; code: string }[] }) {
  return report.errors.map((error) => `${error.line} ${error.column} ${error.code}`)
}

test.serial(
  'creates a tree from a GBK file whose children come before their parents',
  async (t) => {
    const rows = [
      HEADER,
      'C04-2501,计科2501班,班级,C04-25,0,否',
      'C04-25,2025级,年级,C04,0,',
      'C04,计算机学院,学院,SCMU,4,否',
      'SCMU,华南示范大学,学校,,0,否',
      'C01,文学院,college,SCMU,1,',
      'OFFICE,教务处,职能部门,SCMU,9,否',
    ]
    const before = await counts()
    const result = await apply(file(iconv.encode(rows.join('\r\n'), 'gbk')))
    t.like(result, { ok: true, value: { total: 6, created: 6, updated: 0, unchanged: 0 } })
    t.true(await treeIsConsistent())
    t.is(
      (await unit('C04-2501')).path,
      `${(await unit('C04-25')).path}${(await unit('C04-2501')).id}/`
    )
    t.is((await unit('C04')).sortOrder, 4)
    t.is((await unit('C01')).kind, 'college')
    const after = await counts()
    t.is(after.units, before.units + 6)
    t.is(after.changes, before.changes + 6, 'one history entry per unit')
    t.is(after.audit, before.audit + 7, 'one audit entry per unit and the summary')
    t.deepEqual(await historyKinds('C04-2501'), ['created'])
  }
)

test.serial('a dry run lists every row error by row and column and writes nothing', async (t) => {
  const before = await counts()
  const rows = [
    HEADER,
    'X1,未知上级,班级,NOWHERE,0,否', // 2: unknown parent
    'A1,甲,专业,B1,0,', // 3: cycle A1 → B1 → A1
    'B1,乙,专业,A1,0,', // 4
    'C04,计算机学院,学院,SCMU,4,否', // 5: fine
    'C04,重复,学院,SCMU,4,否', // 6: code twice
    'C05,错层,学院,C04-2501,0,', // 7: a college under a class
    'ROOT2,第二所学校,学校,,0,', // 8: a second top-level unit
    'CAMPUS,校区,校区,,0,', // 9: a top-level unit that is no school
    'C01,文学院,专业,SCMU,1,', // 10: the kind of an existing unit
    'OFFICE,教务处,职能部门,SCMU,排第一,也许', // 11: sort order and disabled cells
    'bad code!,名称,班级,C04,0,', // 12: code format
    ',,,,,否', // 13: required cells
  ]
  const result = await dryRun(file(rows.join('\n')))
  t.true(result.ok)
  if (!result.ok) return
  t.deepEqual(errorsOf(result.value), [
    '2 上级单位代码 parent_unknown',
    '3 上级单位代码 cycle',
    '4 上级单位代码 cycle',
    '6 单位代码 duplicate_code_in_file',
    '7 单位类型 kind_order',
    '8 上级单位代码 second_root',
    '9 单位类型 root_kind',
    '10 单位类型 kind_change',
    '11 排序 sort_order_format',
    '11 是否停用 disabled_format',
    '12 单位代码 code_format',
    '13 单位代码 required',
    '13 单位名称 required',
    '13 单位类型 required',
  ])
  t.like(result.value.errors[1], { params: { codes: 'A1 → B1 → A1' } })
  t.deepEqual(await counts(), before, 'nothing written, not even audit entries')

  const refused = await apply(file(rows.join('\n')))
  t.like(refused, { ok: false, error: 'rows_invalid' })
  t.deepEqual(await counts(), before, 'an import with bad rows writes nothing either')
})

test.serial(
  'renames, moves, re-sorts and disables existing units through the org actions',
  async (t) => {
    const rows = [
      HEADER,
      'SCMU,华南示范大学,学校,,0,否',
      'C04,计算机与软件学院,学院,SCMU,2,否', // renamed and re-sorted
      'C04-25,2025级,年级,C01,0,', // moved to another college
      'C01,文学院,学院,SCMU,1,是', // disabled, with the grade now below it
    ]
    const result = await apply(file(rows.join('\n')))
    t.like(result, { ok: true, value: { total: 4, created: 0, updated: 3, unchanged: 1 } })
    t.true(await treeIsConsistent())
    t.is((await unit('C04')).name, '计算机与软件学院')
    t.is((await unit('C04')).sortOrder, 2)
    t.is((await unit('C04-25')).parentId, (await unit('C01')).id)
    t.is((await unit('C04-2501')).path.startsWith((await unit('C01')).path), true)
    t.truthy((await unit('C01')).disabledAt)
    t.truthy((await unit('C04-2501')).disabledAt, 'disabled along with the unit above it')
    t.deepEqual(await historyKinds('C04'), ['created', 'renamed'])
    t.deepEqual(await historyKinds('C04-25'), ['created', 'moved'])
    t.deepEqual(await historyKinds('C01'), ['created', 'disabled'])
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const actions = (
      await db.from('audit_entries').orderBy('seq', 'desc').limit(5).select('action')
    ).map((row) => row.action)
    // Parents before children; disabling comes last.
    t.deepEqual(actions.toReversed(), [
      'org.unit_renamed',
      'org.unit_reordered',
      'org.unit_moved',
      'org.unit_disabled',
      'org.units_imported',
    ])
  }
)

test.serial(
  'refuses an enabled unit under a disabled one, and enables both together',
  async (t) => {
    const lonely = await dryRun(file([HEADER, 'C04-25,2025级,年级,C01,0,否'].join('\n')))
    t.true(lonely.ok && lonely.value.errors.length === 1)
    if (lonely.ok) t.deepEqual(errorsOf(lonely.value), ['2 是否停用 enabled_under_disabled'])

    const both = await apply(
      file([HEADER, 'C04-25,2025级,年级,C01,0,否', 'C01,文学院,学院,SCMU,1,否'].join('\n'))
    )
    t.like(both, { ok: true, value: { updated: 2 } })
    t.is((await unit('C01')).disabledAt, null)
    t.is((await unit('C04-25')).disabledAt, null)
    t.truthy((await unit('C04-2501')).disabledAt, 'a unit not in the file is enabled on its own')
  }
)

test.serial('moves a unit under a unit created by the same file, listed after it', async (t) => {
  const rows = [
    HEADER,
    'C04-25,2025级,年级,C04-SE,0,', // moved under the major below
    'C04-SE,软件工程,专业,C04,0,', // new
  ]
  const result = await apply(file(rows.join('\n')))
  t.like(result, { ok: true, value: { created: 1, updated: 1 } })
  t.is((await unit('C04-25')).parentId, (await unit('C04-SE')).id)
  t.true((await unit('C04-2501')).path.startsWith((await unit('C04-SE')).path))
  t.true(await treeIsConsistent())
})

for (const format of ['csv', 'xlsx'] as const) {
  test.serial(`an ${format} export imports back unchanged, in both languages`, async (t) => {
    const { exportOrgUnitRows } = await import('#identity/services/export_org_units')
    const { writeCsv, writeXlsx } = await import('#identity/services/spreadsheet')
    for (const locale of ['zh-CN', 'en']) {
      const { headers, rows } = await exportOrgUnitRows({ locale })
      t.true(rows.length >= 7)
      const bytes =
        format === 'csv' ? writeCsv(headers, rows) : await writeXlsx('org_units', headers, rows)
      const before = await counts()
      const result = await apply(file(bytes, format))
      t.like(
        result,
        { ok: true, value: { created: 0, updated: 0, unchanged: rows.length } },
        locale
      )
      const after = await counts()
      t.is(after.changes, before.changes, 'no history entry')
      t.is(after.audit, before.audit + 1, 'only the summary entry of the import')
    }
  })
}

test.serial('refuses rows outside the importing account scope', async (t) => {
  const { scopeIncludesPath } = await import('#identity/services/org_scope')
  const c04 = await unit('C04')
  const scope = { kind: 'subtrees' as const, paths: [c04.path] }
  t.true(scopeIncludesPath(scope, (await unit('C04-SE')).path))
  const rows = [
    HEADER,
    'C04-AI,人工智能,专业,C04,1,', // inside: a new major under the college
    'C01-CN,汉语言文学,专业,C01,0,', // outside: under another college
    'C01,文学院改名,学院,SCMU,1,', // outside: an existing unit elsewhere
    'C04-SE,软件工程,专业,C01,0,', // moved out of the scope
  ]
  const result = await dryRun(file(rows.join('\n')), scope)
  t.true(result.ok)
  if (!result.ok) return
  t.deepEqual(errorsOf(result.value), [
    '3 上级单位代码 org_unit_out_of_scope',
    '4 单位代码 org_unit_out_of_scope',
    '5 上级单位代码 org_unit_out_of_scope',
  ])
  const inside = await apply(file([HEADER, rows[1]].join('\n')), scope)
  t.like(inside, { ok: true, value: { created: 1 } })
})

test.serial(
  'rename and move join the caller transaction and leave nothing on rollback',
  async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { RenameOrgUnit } = await import('#identity/actions/rename_org_unit')
    const { MoveOrgUnit } = await import('#identity/actions/move_org_unit')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const before = await counts()
    const trx = await db.transaction()
    try {
      const renamed = await new RenameOrgUnit().handle(
        { unit: { code: 'C04-AI' }, name: '智能科学' },
        SYSTEM_ACTOR,
        trx
      )
      t.true(renamed.ok)
      const moved = await new MoveOrgUnit().handle(
        { unit: { code: 'C04-AI' }, newParent: { code: 'C01' } },
        SYSTEM_ACTOR,
        trx
      )
      t.true(moved.ok)
      t.is((await trx.from('org_units').where('code', 'C04-AI').first()).name, '智能科学')
    } finally {
      await trx.rollback()
    }
    t.is((await unit('C04-AI')).name, '人工智能')
    t.is((await unit('C04-AI')).parentId, (await unit('C04')).id)
    t.deepEqual(await counts(), before)
  }
)
