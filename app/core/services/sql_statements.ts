import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'

/**
 * Plain SQL inside a Lucid transaction, for the few paths where the query
 * builder's cost per statement is the bottleneck (the code-payment booking,
 * docs/adr/0013-group-commit-for-code-payments.md). Statements use `?`
 * placeholders and SQL that both databases read the same way.
 *
 * The statements run on the transaction's own connection and are prepared
 * once per connection: better-sqlite3 statements on SQLite, named prepared
 * statements of the pg client on PostgreSQL (the name is per SQL text). Only use it inside the
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

interface PgConnection {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{
    rows: any[]
    rowCount: number | null
  }>
}

/** `?` placeholders as PostgreSQL numbers them; names for prepared statements, per SQL text. */
const pgTexts = new Map<string, { name: string; text: string }>()

function pgStatement(sql: string) {
  let found = pgTexts.get(sql)
  if (!found) {
    let index = 0
    found = { name: `quad_${pgTexts.size + 1}`, text: sql.replace(/\?/g, () => `$${++index}`) }
    pgTexts.set(sql, found)
  }
  return found
}

function postgresStatements(connection: PgConnection): SqlStatements {
  const query = (sql: string, params: unknown[]) => {
    const { name, text } = pgStatement(sql)
    return connection.query({ name, text, values: params })
  }
  return {
    dialect: 'postgres',
    async get(sql, params = []) {
      const result = await query(sql, params)
      return result.rows[0]
    },
    async all(sql, params = []) {
      const result = await query(sql, params)
      return result.rows
    },
    async run(sql, params = []) {
      const result = await query(sql, params)
      return Number(result.rowCount ?? 0)
    },
    async exec(sql) {
      await connection.query({ text: sql })
    },
  }
}

/** Plain statements on the connection of this transaction. */
export async function sqlStatements(trx: TransactionClientContract): Promise<SqlStatements> {
  const knexTransaction = trx.getWriteClient() as unknown as {
    client: { acquireConnection(): Promise<unknown> }
  }
  const connection = await knexTransaction.client.acquireConnection()
  if (trx.dialect.name === 'postgres') return postgresStatements(connection as PgConnection)
  return sqliteStatements(connection as SqliteConnection)
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
