import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import db from '@adonisjs/lucid/services/db'

/**
 * SQLite's WAL checkpoints on a thread of their own (docs/adr/0013).
 *
 * In WAL mode a commit appends pages to the write-ahead log; a checkpoint
 * copies them back into the database file and syncs it. By default the
 * connection that commits past 1,000 pages of log does that itself, inside
 * its commit: on the gateway that is the main thread, and every payment
 * queued behind that commit waits some tens of milliseconds. Here a worker
 * thread with its own connection runs a PASSIVE checkpoint every interval
 * (it never blocks the writer nor waits for it), and the process's own
 * connection checkpoints only past FALLBACK_AUTOCHECKPOINT_PAGES, should the
 * worker fall behind or stop.
 */

/** Pages of log after which a committing connection still checkpoints by itself. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000

/** The worker: CommonJS, run with `eval`, so that it needs no build step. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const connection = new Database(workerData.file, { fileMustExist: true })
function checkpoint() {
  try {
    const [result] = connection.pragma('wal_checkpoint(PASSIVE)')
    parentPort.postMessage({ type: 'checkpoint', log: result.log, checkpointed: result.checkpointed })
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String((error && error.message) || error) })
  }
}
const timer = setInterval(checkpoint, workerData.intervalMs)
parentPort.on('message', (message) => {
  if (message !== 'stop') return
  clearInterval(timer)
  checkpoint()
  connection.close()
  parentPort.close()
})
`

export interface CheckpointerStats {
  /** Checkpoints run. */
  checkpoints: number
  /** Frames in the log and frames copied back, at the last checkpoint. */
  log: number
  checkpointed: number
  /** The last error, if a checkpoint failed (it is tried again at the next interval). */
  lastError: string | null
}

export interface SqliteCheckpointer {
  readonly stats: CheckpointerStats
  /** Runs a last checkpoint and ends the worker. */
  stop(): Promise<void>
}

/**
 * Starts the checkpointer for the default connection when it is SQLite;
 * null on PostgreSQL (which checkpoints in its own processes).
 */
export async function startSqliteCheckpointer(
  options: { intervalMs?: number } = {}
): Promise<SqliteCheckpointer | null> {
  const connection = db.connection()
  if (connection.dialect.name === 'postgres') return null
  const config = db.manager.get(connection.connectionName)?.config as
    { connection?: { filename?: string } } | undefined
  const file = config?.connection?.filename
  if (!file || file === ':memory:') return null

  await db.rawQuery(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`)
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      intervalMs: options.intervalMs ?? 1000,
    },
  })
  worker.unref()
  const stats: CheckpointerStats = { checkpoints: 0, log: 0, checkpointed: 0, lastError: null }
  worker.on(
    'message',
    (message: { type: string; log?: number; checkpointed?: number; message?: string }) => {
      if (message.type === 'checkpoint') {
        stats.checkpoints += 1
        stats.log = message.log ?? 0
        stats.checkpointed = message.checkpointed ?? 0
      } else {
        stats.lastError = message.message ?? 'checkpoint failed'
      }
    }
  )
  worker.on('error', (error) => {
    stats.lastError = error.message
  })
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  return {
    stats,
    async stop() {
      worker.postMessage('stop')
      await exited
    },
  }
}
