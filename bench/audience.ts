/**
 * Audience resolution over a school of 100,000 people (the demo school's
 * generator, plus copies beyond its 20,000 limit), on SQLite and on
 * PostgreSQL. For three typical audiences prints the time of a count (the
 * editor's live preview), of a full walk over every id in batches of 1,000
 * (card issuance) and of a single-person check (app visibility).
 *
 *   npm run bench audience [-- --people 100000 --db sqlite|pg]
 */
import { option, ranOnEachDatabase } from './support/cli.js'

/** Median of `runs` timings in milliseconds, and the last result. */
async function timed<T>(runs: number, work: () => Promise<T>) {
  const times: number[] = []
  let result: T | undefined
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    result = await work()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return { ms: times[Math.floor(runs / 2)], result: result as T }
}

export default async function audienceBench(args: string[]) {
  if (await ranOnEachDatabase('audience', args)) return
  const people = Number(option(args, 'people', '100000'))

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp({ http: false })
  try {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { LoadDemoSchool, DEMO_MAX_PEOPLE } = await import('#identity/actions/load_demo_school')
    const { newPublicId } = await import('#core/services/ids')
    const { validateAudienceRules } = await import('#identity/services/audience_rules')
    const { resolveAudience } = await import('#identity/services/audience_resolver')

    const loaded = await new LoadDemoSchool().handle({
      people: Math.min(people, DEMO_MAX_PEOPLE),
      seed: 2026,
      batchSize: 400,
    })
    if (!loaded.ok) throw new Error(loaded.error)
    // Beyond the generator's limit: copies of generated people with new numbers.
    const template: any[] = await db.from('people').orderBy('id').limit(DEMO_MAX_PEOPLE)
    for (let made = DEMO_MAX_PEOPLE; made < people;) {
      // Cycling through the whole template keeps the mix of units, types and years.
      const from = (made - DEMO_MAX_PEOPLE) % template.length
      const size = Math.min(400, people - made, template.length - from)
      const batch = template.slice(from, from + size).map((row, index) => {
        const copy = { ...row }
        delete copy.id
        return {
          ...copy,
          public_id: newPublicId(),
          person_no: `X${String(made + index).padStart(8, '0')}`,
        }
      })
      await db.table('people').multiInsert(batch)
      made += batch.length
    }
    if (quad.dialect === 'pg') await db.rawQuery('ANALYZE')

    const college = await db.from('org_units').where('kind', 'college').orderBy('id').first()
    const numberRows = await db.from('people').orderBy('id').select('person_no')
    const numbers = numberRows.map((row) => row.person_no as string)
    const cases: Record<string, unknown> = {
      'everyone': { allPeople: true },
      'active undergraduates of one college, 2023–2025': {
        identityTypes: ['undergraduate'],
        statuses: ['active'],
        orgUnits: [{ unit: college.public_id, descendants: true }],
        enrollmentYears: { from: 2023, to: 2025 },
      },
      'teachers + 5,000 listed − 1,000 listed': {
        identityTypes: ['teacher'],
        include: numbers.filter((_, index) => index % 7 === 0).slice(0, 5000),
        exclude: numbers.filter((_, index) => index % 3 === 0).slice(0, 1000),
      },
    }

    console.log(`\naudiences over ${people.toLocaleString('en')} people on ${quad.dialect}`)
    const idRows = await db.from('people').orderBy('id').select('id').limit(1000)
    const ids = idRows.map((row) => Number(row.id))
    for (const [name, input] of Object.entries(cases)) {
      const validated = await validateAudienceRules(input)
      if (!validated.ok) throw new Error(JSON.stringify(validated.details))
      const audience = resolveAudience(validated.value)
      const count = await timed(5, () => audience.count())
      const walk = await timed(3, async () => {
        let seen = 0
        for await (const batch of audience.ids(1000)) seen += batch.length
        return seen
      })
      if (walk.result !== count.result) throw new Error(`${name}: walk and count differ`)
      const started = performance.now()
      for (const id of ids) await audience.contains(id)
      const contains = (performance.now() - started) / ids.length
      console.log(
        `  ${name}: ${count.result.toLocaleString('en')} people; ` +
          `count ${count.ms.toFixed(1)} ms, all ids ${walk.ms.toFixed(0)} ms, ` +
          `contains ${contains.toFixed(2)} ms`
      )
    }
    console.log(`  memory: ${Math.round(process.memoryUsage().rss / 1e6)} MB RSS`)
  } finally {
    await quad.close()
  }
}
