/**
 * The people search answers small results from their ids and large ones (over
 * 2,000 matches) with a count and a walk along the person number index. Both
 * paths must give the same totals and the same order.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp
const PEOPLE = 2150

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const { insertOrgUnit } = await import('#identity/services/org_tree')
  const { newPublicId } = await import('#core/services/ids')
  const now = new Date().toISOString().slice(0, 19).replace('T', ' ')
  await db.transaction(async (trx) => {
    const school = await insertOrgUnit(trx, null, { kind: 'school', code: 'S', name: '学校' })
    const rows = []
    for (let i = 0; i < PEOPLE; i++) {
      // Numbers are inserted out of order so that the page order is the search's doing.
      const no = String((i * 7919) % PEOPLE).padStart(5, '0')
      rows.push({
        public_id: newPublicId(),
        person_no: `N${no}`,
        name: i % 10 === 0 ? `李明${i}` : `王小${i}`,
        name_pinyin_initials: i % 10 === 0 ? 'lm' : 'wx',
        gender: 'unknown',
        identity_type: 'undergraduate',
        status: 'active',
        org_unit_id: school.id,
        created_at: now,
        updated_at: now,
      })
    }
    // SQLite refuses one INSERT with thousands of rows through knex: batches.
    for (let start = 0; start < rows.length; start += 400) {
      await trx.table('people').multiInsert(rows.slice(start, start + 400))
    }
  })
})

test.after.always(async () => {
  await quad?.close()
})

async function numbersOf(q: string, page: number) {
  const { searchPeople } = await import('#identity/services/people_directory')
  const result = await searchPeople({ q }, page, 50)
  return { total: result.total, numbers: result.all().map((person) => person.personNo) }
}

test('a search with more than 2,000 matches counts them all and pages in number order', async (t) => {
  const first = await numbersOf('N', 1)
  t.is(first.total, PEOPLE)
  t.deepEqual(first.numbers.slice(0, 3), ['N00000', 'N00001', 'N00002'])
  const third = await numbersOf('N', 3)
  t.is(third.numbers[0], 'N00100')
  t.is(third.numbers.length, 50)
  const last = await numbersOf('N', 43)
  t.is(last.numbers.length, 50)
  t.is(last.numbers[0], 'N02100')
  t.is(last.numbers.at(-1), 'N02149')
})

test('a search with few matches gives the same order as the large path', async (t) => {
  const sparse = await numbersOf('李明', 1)
  t.is(sparse.total, PEOPLE / 10)
  const sorted = [...sparse.numbers].sort()
  t.deepEqual(sparse.numbers, sorted)
  const dense = await numbersOf('wx', 1)
  t.is(dense.total, PEOPLE - sparse.total)
  t.deepEqual(dense.numbers, [...dense.numbers].sort())
})
