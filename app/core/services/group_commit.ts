import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { sqlStatements, type SqlStatements } from '#core/services/sql_statements'

/**
 * Group commit: units of work that arrive while a transaction is being
 * written wait for it, then go together into the next one, each in a
 * savepoint of its own (requests of a BatchWork: together, in none), and
 * are answered once that transaction has committed
 * (docs/adr/0013-group-commit-for-code-payments.md).
 *
 * A durable commit waits for the disk; one commit for many payments is what
 * lets the payment rate exceed the disk's commit rate. A unit is answered
 * only after its commit, so an answer still means "on disk". One unit's
 * failure rolls back its own savepoint and nothing else; a transaction the
 * database refuses as a whole (a deadlock, a busy database) is run again
 * from the start, up to three times, and then every unit in it fails.
 *
 * The work of a unit must be safe to run again (it runs in a transaction
 * that may be rolled back and retried) and should not wait for anything but
 * its own statements.
 */
export interface UnitContext {
  trx: TransactionClientContract
  sql: SqlStatements
}

type Work<T> = (unit: UnitContext) => Promise<T>

/**
 * Requests of one kind that can be booked together, in a few statements for
 * the lot instead of a few per request (the code payments of a till rush).
 */
export interface BatchWork<R, T> {
  /**
   * Books the requests together in the unit and answers one outcome per
   * request, in their order. The outcomes must be those of some serial order
   * of the requests. When it throws (anything but a deadlock or a busy
   * database), the transaction is rolled back and each request is run alone
   * with `one`.
   */
  batch(unit: UnitContext, requests: R[]): Promise<T[]>
  /** Books one request alone, in its own savepoint. */
  one(unit: UnitContext, request: R): Promise<T>
}

interface Entry {
  work: Work<unknown>
  /** Set for requests of a BatchWork: consecutive ones of the same kind go together. */
  batched?: { kind: BatchWork<any, unknown>; request: unknown }
  resolve(value: unknown): void
  reject(error: unknown): void
}

type Outcome = { ok: boolean; value: unknown }

export interface GroupCommitOptions {
  /** Most units in one transaction (default 64; at most 32 on PostgreSQL). */
  maxUnits?: number
  /** Runs first in every transaction (e.g. taking SQLite's write lock). */
  begin?: (unit: UnitContext) => Promise<void>
}

const ATTEMPTS = 3

/**
 * Units per transaction on PostgreSQL: each unit's savepoint that writes is
 * a subtransaction, and a transaction with more than 64 of them leaves
 * PostgreSQL's per-backend cache for the slower pg_subtrans lookups.
 */
const POSTGRES_MAX_UNITS = 32

/** PostgreSQL deadlock and serialization failures, SQLite's busy database: worth another try. */
function retryable(error: unknown): boolean {
  const code = (error as { code?: string })?.code
  return (
    code === '40P01' ||
    code === '40001' ||
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT' ||
    code === 'SQLITE_LOCKED'
  )
}

export class GroupCommit {
  readonly #queue: Entry[] = []
  readonly #maxUnits: number
  readonly #begin?: (unit: UnitContext) => Promise<void>
  #draining = false
  /** Transactions written and units in them, since start (for the benchmarks). */
  readonly stats = { transactions: 0, units: 0 }

  constructor(options: GroupCommitOptions = {}) {
    this.#maxUnits = options.maxUnits ?? 64
    this.#begin = options.begin
  }

  /** Runs the work in the next transaction; resolves after that transaction committed. */
  run<T>(work: Work<T>): Promise<T> {
    return this.#enqueue(work)
  }

  /**
   * Runs the request in the next transaction together with the other
   * requests of the same kind queued beside it (BatchWork); resolves after
   * that transaction committed.
   */
  runBatched<R, T>(kind: BatchWork<R, T>, request: R): Promise<T> {
    return this.#enqueue((unit) => kind.one(unit, request), { kind, request })
  }

  #enqueue<T>(work: Work<T>, batched?: Entry['batched']): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, batched, resolve: resolve as (value: unknown) => void, reject })
      if (!this.#draining) {
        // Units sent in the same turn of the event loop (a burst of requests) start together.
        this.#draining = true
        setImmediate(() => void this.#drain())
      }
    })
  }

  async #drain() {
    this.#draining = true
    try {
      const postgres = db.connection().dialect.name === 'postgres'
      while (this.#queue.length > 0) {
        // Batched requests take no savepoint: PostgreSQL's limit is on savepoints.
        const max =
          postgres && !this.#queue[0].batched
            ? Math.min(this.#maxUnits, POSTGRES_MAX_UNITS)
            : this.#maxUnits
        const batch = this.#queue.splice(0, max)
        await this.#write(batch)
      }
    } finally {
      this.#draining = false
    }
  }

  /**
   * Writes the units in one transaction. A run of batched requests goes to
   * its BatchWork together, without a savepoint of its own; when the batch
   * throws, the whole transaction is rolled back and written again with
   * every unit alone (`oneByOne`).
   */
  async #write(batch: Entry[], oneByOne = false): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let outcomes: Outcome[] = []
      try {
        await db.transaction(async (trx) => {
          outcomes = []
          const sql = await sqlStatements(trx)
          const unit = { trx, sql }
          if (this.#begin) await this.#begin(unit)
          for (let index = 0; index < batch.length;) {
            const kind = batch[index].batched?.kind
            let end = index + 1
            if (kind) while (end < batch.length && batch[end].batched?.kind === kind) end++
            const run = batch.slice(index, end)
            if (kind && !oneByOne) outcomes.push(...(await together(unit, run)))
            else for (const entry of run) outcomes.push(await alone(unit, entry))
            index = end
          }
        })
      } catch (error) {
        if (error instanceof BatchFailed) return this.#write(batch, true)
        if (retryable(error) && attempt < ATTEMPTS) continue
        for (const entry of batch) entry.reject(error)
        return
      }
      this.stats.transactions++
      this.stats.units += batch.length
      batch.forEach((entry, index) => {
        const outcome = outcomes[index]
        if (outcome.ok) entry.resolve(outcome.value)
        else entry.reject(outcome.value)
      })
      return
    }
  }
}

/** One unit in its own savepoint: its failure rolls back its own writes and nothing else. */
async function alone(unit: UnitContext, entry: Entry): Promise<Outcome> {
  const { sql } = unit
  await sql.exec('SAVEPOINT quad_unit')
  try {
    const value = await entry.work(unit)
    await sql.exec('RELEASE SAVEPOINT quad_unit')
    return { ok: true, value }
  } catch (error) {
    // A failed transaction cannot roll back to a savepoint: let it retry whole.
    if (retryable(error)) throw error
    await sql.exec('ROLLBACK TO SAVEPOINT quad_unit')
    await sql.exec('RELEASE SAVEPOINT quad_unit')
    return { ok: false, value: error }
  }
}

/** Thrown out of a transaction whose batch failed: it is written again, one unit at a time. */
class BatchFailed extends Error {}

/**
 * Requests of one BatchWork together. No savepoint (on PostgreSQL each is
 * a round trip): a batch that throws fails the transaction, which is then
 * written again one by one.
 */
async function together(unit: UnitContext, run: Entry[]): Promise<Outcome[]> {
  const kind = run[0].batched!.kind
  try {
    const values = await kind.batch(
      unit,
      run.map((entry) => entry.batched!.request)
    )
    if (values.length !== run.length) throw new Error('a batch must answer every request')
    return values.map((value) => ({ ok: true, value }))
  } catch (error) {
    if (retryable(error)) throw error
    throw new BatchFailed('the batch failed', { cause: error })
  }
}
