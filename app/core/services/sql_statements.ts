import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'

/**
 * Plain SQL inside a Lucid transaction, for the few paths where the query
 * builder's cost per statement is the bottleneck (the code-payment booking,
 * docs/adr/0013-group-commit-for-code-payments.md). Statements use `?`
 * placeholders and SQL that both databases read the same way.
 *
 * On SQLite the statements run on the transaction's own better-sqlite3
 * connection and are prepared once per connection; on PostgreSQL they go
 * through the transaction's client as raw queries. Only use it inside the
 * transaction callback that handed out the client: on SQLite nothing else
 * runs on the connection while that transaction holds it.
 */
export interface SqlStatements {
  readonly dialect: 'sqlite' | 'postgres'
  get<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T | undefined>
  all<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>
  /** Runs a write; answers the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>
  /** A statement without parameters or result (SAVEPOINT, RELEASE…). */
  exec(sql: string): Promise<void>
}

interface SqliteStatement {
  get(...params: unknown[]): any
  all(...params: unknown[]): any[]
  run(...params: unknown[]): { changes: number }
}

interface SqliteConnection {
  prepare(sql: string): SqliteStatement
  exec(sql: string): void
}

const prepared = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>()

/** better-sqlite3 binds numbers, strings, null and buffers; booleans are 0 and 1. */
function sqliteParams(params: unknown[]) {
  return params.map((value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value))
}

function sqliteStatements(connection: SqliteConnection): SqlStatements {
  let cache = prepared.get(connection)
  if (!cache) {
    cache = new Map()
    prepared.set(connection, cache)
  }
  const statement = (sql: string) => {
    let found = cache.get(sql)
    if (!found) {
      found = connection.prepare(sql)
      cache.set(sql, found)
    }
    return found
  }
  return {
    dialect: 'sqlite',
    async get(sql, params = []) {
      return statement(sql).get(...sqliteParams(params))
    },
    async all(sql, params = []) {
      return statement(sql).all(...sqliteParams(params))
    },
    async run(sql, params = []) {
      return statement(sql).run(...sqliteParams(params)).changes
    },
    async exec(sql) {
      statement(sql).run()
    },
  }
}

function postgresStatements(trx: TransactionClientContract): SqlStatements {
  return {
    dialect: 'postgres',
    async get(sql, params = []) {
      const result = await trx.rawQuery(sql, params as any[])
      return result.rows[0]
    },
    async all(sql, params = []) {
      const result = await trx.rawQuery(sql, params as any[])
      return result.rows
    },
    async run(sql, params = []) {
      const result = await trx.rawQuery(sql, params as any[])
      return Number(result.rowCount ?? 0)
    },
    async exec(sql) {
      await trx.rawQuery(sql)
    },
  }
}

/** Plain statements on the connection of this transaction. */
export async function sqlStatements(trx: TransactionClientContract): Promise<SqlStatements> {
  if (trx.dialect.name === 'postgres') return postgresStatements(trx)
  const knexTransaction = trx.getWriteClient() as unknown as {
    client: { acquireConnection(): Promise<SqliteConnection> }
  }
  const connection = await knexTransaction.client.acquireConnection()
  return sqliteStatements(connection)
}

/** The rows of a raw query outside a transaction, as either driver answers it. */
export async function rawRows(
  client: QueryClientContract,
  sql: string,
  params: unknown[]
): Promise<Record<string, any>[]> {
  const result = await client.rawQuery(sql, params as any[])
  return Array.isArray(result) ? result : result.rows
}
