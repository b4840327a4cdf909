/**
 * SQLite's WAL checkpoints on a worker thread (startSqliteCheckpointer): the
 * process's own connection no longer checkpoints at 1,000 pages, and the
 * worker copies the log back into the database file while writes go on.
 */
import { statSync } from 'node:fs'
import test from 'ava'
import { bootTestApp, testDialect, type TestApp } from '#tests/helpers/app'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

test('the checkpointer copies the log back into the database file while writes go on', async (t) => {
  const { startSqliteCheckpointer, FALLBACK_AUTOCHECKPOINT_PAGES } =
    await import('#core/services/sqlite_checkpointer')
  const { default: db } = await import('@adonisjs/lucid/services/db')
  const checkpointer = await startSqliteCheckpointer({ intervalMs: 50 })
  if (testDialect === 'pg') {
    t.is(checkpointer, null)
    return
  }
  if (!checkpointer) return t.fail('no checkpointer on SQLite')
  try {
    const [setting] = await db.rawQuery('PRAGMA wal_autocheckpoint')
    t.is(Object.values(setting)[0], FALLBACK_AUTOCHECKPOINT_PAGES)
    const file = (db.manager.get(db.primaryConnectionName)?.config as any).connection.filename
    const before = statSync(file).size
    // About 1,500 pages of log: past SQLite's default of 1,000, below the fallback.
    const value = 'x'.repeat(3000)
    for (let index = 0; index < 1500; index++) {
      await db.table('payment_settings').insert({
        key: `checkpoint-${process.pid}-${index}`,
        value,
        updated_at: '2026-01-01 00:00:00',
      })
    }
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (checkpointer.stats.log > 0 && checkpointer.stats.checkpointed === checkpointer.stats.log)
        break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.is(checkpointer.stats.lastError, null)
    t.true(checkpointer.stats.checkpoints > 1)
    t.is(checkpointer.stats.checkpointed, checkpointer.stats.log)
    // The rows are in the database file itself now.
    t.true(statSync(file).size > before + 1500 * 3000)
  } finally {
    await checkpointer.stop()
    await db.from('payment_settings').whereLike('key', `checkpoint-${process.pid}-%`).delete()
  }
})
