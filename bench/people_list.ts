/**
 * The people list page over a registry of 100,000 people, on SQLite and on
 * PostgreSQL. Loads the demo school's org tree and generates the people from
 * its plan (names, pinyin initials, numbers, units), written in bulk, then
 * fetches the real console page over HTTP as a signed-in super admin for
 * typical searches and prints p50/p95/p99/max per search and database.
 *
 *   npm run bench people_list [-- --people 100000 --requests 200 --db sqlite|pg --explain]
 *
 * --explain prints the query plans (with timings on PostgreSQL) of the SQL
 * each search runs.
 */
import { option, ranOnEachDatabase } from './support/cli.js'

/** The value below which `share` of the sorted timings fall (nearest rank). */
function percentile(sorted: number[], share: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]
}

export default async function peopleListBench(args: string[]) {
  if (await ranOnEachDatabase('people_list', args)) return
  const total = Number(option(args, 'people', '100000'))
  const requests = Number(option(args, 'requests', '200'))
  const warmUp = Math.max(5, Math.round(requests / 10))

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp()
  try {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { LoadDemoSchool } = await import('#identity/actions/load_demo_school')
    const { planDemoSchool } = await import('#identity/services/demo_school')
    const { pinyinInitials } = await import('#identity/services/pinyin_initials')
    const { newPublicId } = await import('#core/services/ids')
    const { TestClient } = await import('../tests/helpers/http.js')
    const { givenAdmin, signIn } = await import('../tests/helpers/fixtures.js')
    const { searchPeople } = await import('#identity/services/people_directory')

    const started = performance.now()
    // The demo loader builds the org tree (and one person); the rest is bulk.
    const loaded = await new LoadDemoSchool().handle({ people: 1, seed: 2026 })
    if (!loaded.ok) throw new Error(loaded.error)
    const units = await db.from('org_units').select('id', 'code', 'public_id', 'kind')
    const unitIds = new Map(units.map((unit) => [unit.code as string, Number(unit.id)]))
    const plan = planDemoSchool({ people: total, seed: 2026, school: { code: 'SCMU', name: '' } })
    const existing = await db.from('people').select('person_no')
    const taken = new Set(existing.map((row) => row.person_no as string))
    // The demo person's timestamps, stored as Lucid stores them on this database.
    const { created_at: now } = await db.from('people').select('created_at').firstOrFail()
    const rows: Record<string, string | number | null>[] = []
    const wanted = total - taken.size
    for (const person of plan.people) {
      if (rows.length >= wanted) break
      let personNo = person.personNo
      while (taken.has(personNo)) personNo = `${personNo}X`
      taken.add(personNo)
      rows.push({
        public_id: newPublicId(),
        person_no: personNo,
        name: person.name,
        name_pinyin_initials: pinyinInitials(person.name),
        gender: person.gender,
        identity_type: person.identityType,
        status: person.status,
        org_unit_id: unitIds.get(person.unitCode)!,
        enrollment_year: person.enrollmentYear,
        email: person.email,
        created_at: now,
        updated_at: now,
      })
    }
    // knex fails on SQLite with more than ~500 rows (variables) per statement.
    await db.transaction(async (trx) => {
      for (let start = 0; start < rows.length; start += 400) {
        await trx.table('people').multiInsert(rows.slice(start, start + 400))
      }
    })
    // As autovacuum would soon after a bulk load; SQLite gets no statistics.
    if (quad.dialect === 'pg') await db.rawQuery('ANALYZE')
    const counted = await db.from('people').count('* as total').first()
    const count = Number(counted.total)
    const generation = (performance.now() - started) / 1000

    const college = units.find((unit) => unit.kind === 'college')!
    const sample = rows[Math.floor(rows.length / 2)] as Record<string, string>
    const surname = [...sample.name][0]
    const cases: [string, string][] = [
      ['first page, no search', ''],
      [`name prefix "${surname}"`, `q=${encodeURIComponent(surname)}`],
      [
        `name prefix "${sample.name.slice(0, 2)}"`,
        `q=${encodeURIComponent(sample.name.slice(0, 2))}`,
      ],
      [`full number ${sample.person_no}`, `q=${sample.person_no}`],
      [`number prefix "${sample.person_no.slice(0, 6)}"`, `q=${sample.person_no.slice(0, 6)}`],
      [`pinyin initials "${sample.name_pinyin_initials}"`, `q=${sample.name_pinyin_initials}`],
      [
        `pinyin initials "${sample.name_pinyin_initials.slice(0, 2)}"`,
        `q=${sample.name_pinyin_initials.slice(0, 2)}`,
      ],
      ['org unit subtree (a college)', `unit=${college.public_id}`],
      ['name "王" + page 20', `q=${encodeURIComponent('王')}&page=20`],
    ]

    if (args.includes('--explain')) await explainSearches(quad.dialect, cases)

    const admin = await givenAdmin('super_admin')
    const client = new TestClient(quad.baseUrl)
    await signIn(client, admin)

    console.log(
      `\npeople list over ${count.toLocaleString('en')} people on ${quad.dialect}: ` +
        `generated in ${generation.toFixed(1)} s; ${requests} requests per search after ${warmUp} warm-up`
    )
    const header = ['search', 'rows', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'query p50 ms']
    const table: string[][] = []
    for (const [name, query] of cases) {
      const path = `/console/people${query ? `?${query}` : ''}`
      let found = ''
      const times: number[] = []
      for (let run = 0; run < warmUp + requests; run++) {
        const begun = performance.now()
        const response = await client.get(path)
        const ms = performance.now() - begun
        if (response.status !== 200) throw new Error(`${path}: status ${response.status}`)
        if (run >= warmUp) times.push(ms)
        else if (run === 0) {
          const rowsShown = response.text.match(/data-testid="person-row"/g)?.length ?? 0
          found = String(rowsShown)
        }
      }
      times.sort((a, b) => a - b)
      // The search alone, without HTTP, session and page rendering.
      const params = new URLSearchParams(query)
      const serviceTimes: number[] = []
      for (let run = 0; run < Math.max(5, requests / 4); run++) {
        const begun = performance.now()
        await searchPeople(
          { q: params.get('q') ?? undefined, unit: params.get('unit') ?? undefined },
          Number(params.get('page') ?? 1)
        )
        serviceTimes.push(performance.now() - begun)
      }
      serviceTimes.sort((a, b) => a - b)
      table.push([
        name,
        found,
        ...[0.5, 0.95, 0.99, 1].map((share) => percentile(times, share).toFixed(1)),
        percentile(serviceTimes, 0.5).toFixed(1),
      ])
    }
    const widths = header.map((title, column) =>
      Math.max(title.length, ...table.map((row) => row[column].length))
    )
    const line = (cells: string[]) =>
      '  ' +
      cells
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[0]) : cell.padStart(widths[column])
        )
        .join('  ')
    console.log(line(header))
    for (const row of table) console.log(line(row))
    console.log(`  memory: ${Math.round(process.memoryUsage().rss / 1e6)} MB RSS`)
  } finally {
    await quad.close()
  }
}

/** Runs each search once through the service and prints the plan of every statement it sent. */
async function explainSearches(dialect: 'sqlite' | 'pg', cases: [string, string][]) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { searchPeople } = await import('#identity/services/people_directory')
  const knex = db.connection().getReadClient()
  const statements: { sql: string; bindings: unknown[] }[] = []
  const listener = (data: { sql: string; bindings: unknown[] }) => statements.push(data)
  for (const [name, query] of cases) {
    const params = new URLSearchParams(query)
    statements.length = 0
    knex.on('query', listener)
    await searchPeople(
      { q: params.get('q') ?? undefined, unit: params.get('unit') ?? undefined },
      Number(params.get('page') ?? 1)
    )
    knex.off('query', listener)
    console.log(`\n== ${name}`)
    for (const { sql, bindings } of [...statements]) {
      if (!/^select/i.test(sql)) continue
      console.log(sql, JSON.stringify(bindings))
      const plan = await db.rawQuery(
        dialect === 'pg'
          ? `EXPLAIN ANALYZE ${sql.replace(/\$\d+/g, '?')}`
          : `EXPLAIN QUERY PLAN ${sql}`,
        bindings as any[]
      )
      const lines =
        dialect === 'pg'
          ? plan.rows.map((row: any) => row['QUERY PLAN'])
          : plan.map((row: any) => row.detail)
      for (const line of lines) console.log(`    ${line}`)
    }
  }
}
