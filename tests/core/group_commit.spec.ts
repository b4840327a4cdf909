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

test('batched requests go together; when the batch throws, the transaction runs again one by one and nothing of the batch stays', async (t) => {
  const { GroupCommit } = await import('#core/services/group_commit')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const commits = new GroupCommit({ maxUnits: 64 })
  const key = `group-batch-${process.pid}`
  const batches: number[][] = []
  const insert = (sql: { run(sql: string, params: unknown[]): Promise<number> }, index: number) =>
    sql.run('INSERT INTO payment_settings (key, value, updated_at) VALUES (?, ?, ?)', [
      `${key}-${index}`,
      String(index),
      '2026-01-01 00:00:00',
    ])
  const kind = {
    async batch({ sql }: { sql: any }, requests: number[]) {
      batches.push(requests)
      for (const index of requests) await insert(sql, index)
      // A batch holding request 13 fails after its writes: every request is run alone.
      if (requests.includes(13)) throw new Error('the batch fails')
      return requests.map((index) => index * 10)
    },
    async one({ sql }: { sql: any }, index: number) {
      await insert(sql, index)
      if (index === 13) throw new Error('request 13 fails alone too')
      return index * 100
    },
  }
  const first = await Promise.all(
    Array.from({ length: 10 }, (_, index) => commits.runBatched(kind, index))
  )
  // Sent in one turn: one batch, every request answered with what the batch gave it.
  t.deepEqual(
    first,
    Array.from({ length: 10 }, (_, index) => index * 10)
  )
  t.deepEqual(batches, [Array.from({ length: 10 }, (_, index) => index)])

  const second = await Promise.allSettled(
    Array.from({ length: 10 }, (_, index) => commits.runBatched(kind, 10 + index))
  )
  t.deepEqual(
    second.map((result) => (result.status === 'fulfilled' ? result.value : 'failed')),
    Array.from({ length: 10 }, (_, index) => (index === 3 ? 'failed' : (10 + index) * 100))
  )
  const rows = await db.from('payment_settings').whereLike('key', `${key}-%`).select('key')
  // 0–9 by the first batch; 10–19 alone but 13, whose savepoint rolled back: no row twice.
  t.is(rows.length, 19)
  t.false(rows.some((row) => row.key === `${key}-13`))
})
