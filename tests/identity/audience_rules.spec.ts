/**
 * Audience rules against a small registry whose every member is known, so
 * that each expected audience can be computed by hand from the same data.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import type { AudienceRules, AudienceRulesInput } from '#identity/services/audience_rules'

let quad: TestApp

interface Row {
  no: string
  type: string
  status: string
  unit: string
  year: number | null
}

/*
 * School S
 *   college A
 *     major A1
 *       class A1a
 *   college B
 */
const PEOPLE: Row[] = [
  { no: 'U01', type: 'undergraduate', status: 'active', unit: 'A1A', year: 2023 },
  { no: 'U02', type: 'undergraduate', status: 'active', unit: 'A1A', year: 2024 },
  { no: 'U03', type: 'undergraduate', status: 'graduated', unit: 'A1', year: 2019 },
  { no: 'U04', type: 'undergraduate', status: 'suspended', unit: 'B', year: 2025 },
  { no: 'P01', type: 'postgraduate', status: 'active', unit: 'A1', year: 2025 },
  { no: 'T01', type: 'teacher', status: 'active', unit: 'A', year: null },
  { no: 'T02', type: 'teacher', status: 'left', unit: 'B', year: null },
  { no: 'S01', type: 'staff', status: 'active', unit: 'S', year: null },
  { no: 'V01', type: 'visitor', status: 'active', unit: 'S', year: 2026 },
]

const units = new Map<string, { publicId: string; path: string }>()
const ids = new Map<string, number>()

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { insertOrgUnit } = await import('#identity/services/org_tree')
  const { default: Person } = await import('#identity/models/person')
  await db.transaction(async (trx) => {
    const school = await insertOrgUnit(trx, null, { kind: 'school', code: 'S', name: '学校' })
    const a = await insertOrgUnit(trx, school, { kind: 'college', code: 'A', name: '甲学院' })
    const a1 = await insertOrgUnit(trx, a, { kind: 'major', code: 'A1', name: '甲专业' })
    const a1a = await insertOrgUnit(trx, a1, { kind: 'class', code: 'A1A', name: '甲一班' })
    const b = await insertOrgUnit(trx, school, { kind: 'college', code: 'B', name: '乙学院' })
    for (const unit of [school, a, a1, a1a, b]) {
      units.set(unit.code, { publicId: unit.publicId, path: unit.path })
    }
    const byCode = new Map([school, a, a1, a1a, b].map((unit) => [unit.code, unit.id]))
    for (const row of PEOPLE) {
      const person = await Person.create(
        {
          personNo: row.no,
          name: `测试${row.no}`,
          gender: 'unknown',
          identityType: row.type as never,
          status: row.status as never,
          orgUnitId: byCode.get(row.unit)!,
          enrollmentYear: row.year,
          email: null,
        },
        { client: trx }
      )
      ids.set(row.no, person.id)
    }
  })
})

test.after.always(async () => {
  await quad?.close()
})

async function valid(input: AudienceRulesInput): Promise<AudienceRules> {
  const { validateAudienceRules } = await import('#identity/services/audience_rules')
  const result = await validateAudienceRules(input)
  if (!result.ok) throw new Error(JSON.stringify(result.details))
  return result.value
}

/** The person numbers an audience selects, sorted, read through the batched walk. */
async function members(input: AudienceRulesInput): Promise<string[]> {
  const { resolveAudience } = await import('#identity/services/audience_resolver')
  const byId = new Map([...ids].map(([no, id]) => [id, no]))
  const found: string[] = []
  for await (const batch of resolveAudience(await valid(input)).ids(2)) {
    found.push(...batch.map((id) => byId.get(id)!))
  }
  return found.sort()
}

function expected(filter: (row: Row) => boolean) {
  return PEOPLE.filter(filter)
    .map((row) => row.no)
    .sort()
}

const unit = (code: string) => units.get(code)!.publicId

test('an empty rule set selects nobody', async (t) => {
  const { resolveAudience } = await import('#identity/services/audience_resolver')
  t.deepEqual(await members({}), [])
  t.is(await resolveAudience(await valid({})).count(), 0)
})

test('"all people" selects the whole registry, and only it does', async (t) => {
  t.deepEqual(
    await members({ allPeople: true }),
    expected(() => true)
  )
  t.deepEqual(
    await members({ allPeople: true, exclude: ['S01'] }),
    expected((row) => row.no !== 'S01')
  )
})

test('identity types select any of the chosen types', async (t) => {
  t.deepEqual(
    await members({ identityTypes: ['teacher', 'staff'] }),
    expected((row) => row.type === 'teacher' || row.type === 'staff')
  )
})

test('statuses select any of the chosen statuses', async (t) => {
  t.deepEqual(
    await members({ statuses: ['graduated', 'left'] }),
    expected((row) => row.status === 'graduated' || row.status === 'left')
  )
})

test('an org unit selects its own people only, or its whole subtree with sub-units', async (t) => {
  t.deepEqual(await members({ orgUnits: [{ unit: unit('A'), descendants: false }] }), ['T01'])
  t.deepEqual(
    await members({ orgUnits: [{ unit: unit('A'), descendants: true }] }),
    expected((row) => ['A', 'A1', 'A1A'].includes(row.unit))
  )
  t.deepEqual(
    await members({
      orgUnits: [
        { unit: unit('A1A'), descendants: true },
        { unit: unit('B'), descendants: false },
      ],
    }),
    expected((row) => row.unit === 'A1A' || row.unit === 'B')
  )
  t.deepEqual(
    await members({ orgUnits: [{ unit: unit('S'), descendants: true }] }),
    expected(() => true)
  )
})

test('enrollment years select listed years or a range, never people without a year', async (t) => {
  t.deepEqual(
    await members({ enrollmentYears: { years: [2023, 2026] } }),
    expected((row) => row.year === 2023 || row.year === 2026)
  )
  t.deepEqual(
    await members({ enrollmentYears: { from: 2024, to: 2025 } }),
    expected((row) => row.year !== null && row.year >= 2024 && row.year <= 2025)
  )
  t.deepEqual(
    await members({ enrollmentYears: { from: 2025 } }),
    expected((row) => row.year !== null && row.year >= 2025)
  )
  t.deepEqual(
    await members({ enrollmentYears: { years: [2019], to: 2023 } }),
    expected((row) => row.year !== null && row.year <= 2023)
  )
})

test('kinds combine with AND, values within a kind with OR', async (t) => {
  t.deepEqual(
    await members({
      identityTypes: ['undergraduate', 'postgraduate'],
      statuses: ['active'],
      orgUnits: [{ unit: unit('A'), descendants: true }],
    }),
    expected(
      (row) =>
        ['undergraduate', 'postgraduate'].includes(row.type) &&
        row.status === 'active' &&
        ['A', 'A1', 'A1A'].includes(row.unit)
    )
  )
  t.deepEqual(await members({ identityTypes: ['teacher'], enrollmentYears: { years: [2024] } }), [])
})

test('the include list adds people whatever the conditions say', async (t) => {
  t.deepEqual(await members({ identityTypes: ['teacher'], include: ['s01', 'V01'] }), [
    'S01',
    'T01',
    'T02',
    'V01',
  ])
  t.deepEqual(await members({ include: ['U04'] }), ['U04'])
})

test('the exclude list wins over conditions and over the include list', async (t) => {
  t.deepEqual(
    await members({ identityTypes: ['teacher'], include: ['S01'], exclude: ['S01', 'T02'] }),
    ['T01']
  )
})

test('lists of tens of thousands of numbers resolve in one query', async (t) => {
  const { resolveAudience } = await import('#identity/services/audience_resolver')
  const { unknownPersonNumbers } = await import('#identity/services/audience_rules')
  const many = Array.from({ length: 40_000 }, (_, index) => `X${index}`)
  const rules = await valid({ include: [...many, 'U01', 'T01'], exclude: [...many, 'T01'] })
  const resolved = resolveAudience(rules)
  t.is(await resolved.count(), 1)
  t.true(await resolved.contains(ids.get('U01')!))
  t.false(await resolved.contains(ids.get('T01')!))
  t.is((await unknownPersonNumbers(rules.include)).length, 40_000)
})

test('the walk yields every member exactly once, in batches of the asked size', async (t) => {
  const { resolveAudience } = await import('#identity/services/audience_resolver')
  const resolved = resolveAudience(await valid({ allPeople: true }))
  const batches: number[][] = []
  for await (const batch of resolved.ids(4)) batches.push(batch)
  t.deepEqual(
    batches.map((batch) => batch.length),
    [4, 4, 1]
  )
  const all = batches.flat()
  t.is(new Set(all).size, PEOPLE.length)
  t.deepEqual(
    all,
    [...ids.values()].sort((a, b) => a - b)
  )
  t.is(await resolved.count(), PEOPLE.length)
})

test('contains answers for one person', async (t) => {
  const { resolveAudience } = await import('#identity/services/audience_resolver')
  const teachers = resolveAudience(await valid({ identityTypes: ['teacher'] }))
  t.true(await teachers.contains(ids.get('T01')!))
  t.false(await teachers.contains(ids.get('U01')!))
  t.false(await teachers.contains(999_999))
})

async function issuesOf(input: unknown, locale = 'zh-CN') {
  const { validateAudienceRules, translateAudienceIssues, audienceRuleIssues } =
    await import('#identity/services/audience_rules')
  const { default: i18nManager } = await import('@adonisjs/i18n/services/main')
  const i18n = i18nManager.locale(locale)
  const result = await validateAudienceRules(input)
  if (result.ok) return null
  return translateAudienceIssues(audienceRuleIssues(result.details), i18n.t.bind(i18n))
}

test('refuses unknown org units, in the reader’s language', async (t) => {
  const missing = '01ARZ3NDEKTSV4RRFFQ69G5FAV'
  const zh = await issuesOf({ orgUnits: [{ unit: missing, descendants: true }] })
  t.deepEqual(zh, { orgUnits: [`找不到组织机构：${missing}。`] })
  const en = await issuesOf({ orgUnits: [{ unit: missing }] }, 'en')
  t.deepEqual(en, { orgUnits: [`Org units: not found: ${missing}.`] })
})

test('refuses bad values with a message for each kind', async (t) => {
  t.deepEqual(await issuesOf({ identityTypes: ['wizard'] }), {
    identityTypes: ['身份类型的取值无效。'],
  })
  t.deepEqual(await issuesOf({ statuses: ['asleep'] }, 'en'), {
    statuses: ['Statuses: a value is not valid.'],
  })
  t.deepEqual(await issuesOf({ enrollmentYears: { from: 2026, to: 2020 } }), {
    enrollmentYears: ['入学年份范围的起始（2026）晚于结束（2020）。'],
  })
  t.deepEqual(await issuesOf({ enrollmentYears: { years: [20245] } }, 'en'), {
    enrollmentYears: ['Enrollment year 20245 is not between 1900 and 2200.'],
  })
  t.deepEqual(await issuesOf({ include: ['A B'] }), {
    include: ['包括名单中的学工号“A B”格式不正确。'],
  })
  t.deepEqual(await issuesOf({ identityTypes: 'teacher' }), {
    identityTypes: ['身份类型的取值无效。'],
  })
  t.deepEqual(await issuesOf({ allPeople: true, include: ['U01'] }), {
    allPeople: ['选择了“全部人员”就不能再设条件或包括名单；请取消其中之一。'],
  })
  t.deepEqual(await issuesOf({ allPeople: true, statuses: ['active'] }, 'en'), {
    allPeople: [
      '“All people” cannot be combined with conditions or an include list; clear one of them.',
    ],
  })
})

test('selects people by tag, refuses unknown tags, and never widens without a tag source', async (t) => {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { resolveAudience } = await import('#identity/services/audience_resolver')
  const { provideAudienceTags, emptyAudienceRules } =
    await import('#identity/services/audience_rules')
  const { registryTags } = await import('#identity/services/audience_tags')
  const now = new Date().toISOString().slice(0, 19).replace('T', ' ')
  const [cadre] = await db.table('tags').insert({ name: '班干部', created_at: now }).returning('id')
  const [athlete] = await db
    .table('tags')
    .insert({ name: '运动员', created_at: now })
    .returning('id')
  const tagId = (row: unknown) => Number(typeof row === 'object' ? (row as { id: number }).id : row)
  await db.table('person_tags').multiInsert([
    { person_id: ids.get('U01'), tag_id: tagId(cadre) },
    { person_id: ids.get('T01'), tag_id: tagId(athlete) },
    { person_id: ids.get('U02'), tag_id: tagId(athlete) },
  ])
  try {
    t.deepEqual(await members({ tags: ['班干部', '运动员'] }), ['T01', 'U01', 'U02'])
    t.deepEqual(
      await members({ tags: ['运动员'], identityTypes: ['undergraduate'] }),
      ['U02'],
      'tags AND the other kinds'
    )
    t.deepEqual(await issuesOf({ tags: ['不存在的标签'] }), {
      tags: ['找不到标签：不存在的标签。'],
    })

    provideAudienceTags(null)
    t.deepEqual(await issuesOf({ tags: ['班干部'] }), { tags: ['按标签选人暂不可用。'] })
    const stored: AudienceRules = { ...emptyAudienceRules(), tags: ['班干部'] }
    t.is(await resolveAudience(stored).count(), 0)
  } finally {
    provideAudienceTags(registryTags)
    await db.from('person_tags').delete()
    await db.from('tags').delete()
  }
})

test('creating, changing and archiving an audience is audited with it', async (t) => {
  const { CreateAudience } = await import('#identity/actions/audience_create')
  const { UpdateAudience } = await import('#identity/actions/audience_update')
  const { ArchiveAudience } = await import('#identity/actions/audience_archive')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  const { default: AuditEntry } = await import('#core/models/audit_entry')

  const refused = await new CreateAudience().handle(SYSTEM_ACTOR, {
    name: '坏规则',
    rules: { statuses: ['asleep'] },
  })
  t.false(refused.ok)

  const created = await new CreateAudience().handle(SYSTEM_ACTOR, {
    name: ' 全体教师 ',
    rules: { identityTypes: ['teacher'], include: ['S01'] },
  })
  if (!created.ok) return t.fail(created.error)
  t.is(created.value.name, '全体教师')
  const id = created.value.publicId

  const updated = await new UpdateAudience().handle(SYSTEM_ACTOR, id, {
    name: '在职教师',
    rules: { identityTypes: ['teacher'], statuses: ['active'], include: ['V01'] },
  })
  t.true(updated.ok)
  t.true((await new ArchiveAudience().handle(SYSTEM_ACTOR, id)).ok)
  const frozen = await new UpdateAudience().handle(SYSTEM_ACTOR, id, { name: 'x', rules: {} })
  t.deepEqual(frozen.ok ? null : frozen.error, 'archived')

  const entries = await AuditEntry.query().where('subject_id', id).orderBy('seq')
  t.deepEqual(
    entries.map((entry) => entry.action),
    ['identity.audience_created', 'identity.audience_updated', 'identity.audience_archived']
  )
  t.deepEqual(JSON.parse(entries[1].meta!), {
    includeAdded: ['V01'],
    includeRemoved: ['S01'],
    excludeAdded: [],
    excludeRemoved: [],
  })
})
