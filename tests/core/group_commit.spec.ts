/**
 * Group commit (GroupCommit): units that arrive together share one
 * transaction, each in its own savepoint; a unit that fails leaves nothing
 * behind and takes no other unit with it; a unit is answered with
 * what its work returned.
 */
import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

test('units sent together share transactions; a failing unit rolls back alone', async (t) => {
  const { GroupCommit } = await import('#core/services/group_commit')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const commits = new GroupCommit({ maxUnits: 8 })
  const key = `group-commit-${process.pid}`
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, index) =>
      commits.run(async ({ sql }) => {
        await sql.run('INSERT INTO payment_settings (key, value, updated_at) VALUES (?, ?, ?)', [
          `${key}-${index}`,
          String(index),
          '2026-01-01 00:00:00',
        ])
        if (index === 7) throw new Error('unit 7 fails after its write')
        return index
      })
    )
  )
  t.deepEqual(
    results.map((result) => (result.status === 'fulfilled' ? result.value : 'failed')),
    Array.from({ length: 20 }, (_, index) => (index === 7 ? 'failed' : index))
  )
  const rows = await db.from('payment_settings').whereLike('key', `${key}-%`).select('key')
  t.is(rows.length, 19)
  t.false(rows.some((row) => row.key === `${key}-7`))
  // 20 units, 8 at most per transaction, the first alone: fewer transactions than units.
  t.is(commits.stats.units, 20)
  t.true(commits.stats.transactions <= 4, `${commits.stats.transactions} transactions`)
})
