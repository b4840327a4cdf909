/**
 * Boots one Quad application per ava worker (per test file): its own storage
 * root, its own SQLite file or PostgreSQL database, migrated, with HTTP on a
 * free port. TEST_DB=pg selects PostgreSQL (PG_HOST/PG_PORT/PG_USER/PG_PASSWORD).
 *
 * The migrated database is a copy of a template: the first boot after the
 * migrations change runs every migration and keeps the result (a SQLite file
 * under the system temp folder, a PostgreSQL database quad_test_template_<key>),
 * named after a hash of database/migrations and the database config; later
 * boots copy it (a file copy, CREATE DATABASE … TEMPLATE) and then run
 * migration:run, which finds nothing to do. QUAD_TEST_TEMPLATE=0 migrates every
 * database from empty instead; `database: 'empty'` boots on an empty,
 * unmigrated database.
 */
import 'reflect-metadata'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import type { ApplicationService } from '@adonisjs/core/types'

export interface TestApp {
  app: ApplicationService
  baseUrl: string
  storage: string
  dialect: 'sqlite' | 'pg'
  close(): Promise<void>
}

export const testDialect: 'sqlite' | 'pg' = process.env.TEST_DB === 'pg' ? 'pg' : 'sqlite'

function pgAdminConfig() {
  return {
    host: process.env.PG_HOST ?? '127.0.0.1',
    port: Number(process.env.PG_PORT ?? 5432),
    user: process.env.PG_USER ?? 'postgres',
    password: process.env.PG_PASSWORD,
    database: 'postgres',
  }
}

async function withPgAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(pgAdminConfig())
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/**
 * Creates a PostgreSQL database for this worker, dropping any leftover: empty,
 * or a copy of `template`.
 */
export async function createPgDatabase(name: string, template?: string) {
  await withPgAdmin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    if (!template) {
      await client.query(`CREATE DATABASE "${name}"`)
      return
    }
    // Two copies of one template at the same moment can meet PostgreSQL's
    // "source database is being accessed by other users"; wait and retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)
        return
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt === 20) throw error
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
      }
    }
  })
}

export async function dropPgDatabase(name: string) {
  await withPgAdmin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  })
}

const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Names the migrated schema: a hash of every migration file (name and
 * contents) and of the database config, so that any change to them makes a
 * new template.
 */
export function migrationsKey(): string {
  const hash = createHash('sha256')
  const folder = join(APP_ROOT, 'database', 'migrations')
  for (const name of readdirSync(folder).sort()) {
    hash.update(`${name}\0`)
    hash.update(readFileSync(join(folder, name)))
  }
  hash.update(readFileSync(join(APP_ROOT, 'config', 'database.ts')))
  return hash.digest('hex').slice(0, 16)
}

/** Templates other than the current one older than this are removed. */
const STALE_TEMPLATE_MS = 6 * 3600_000
const TEMPLATE_DIR = join(tmpdir(), 'quad-test-templates')
const PG_TEMPLATE_PREFIX = 'quad_test_template_'

/** Where the template of the current migrations lives for this dialect. */
export function templateName(key = migrationsKey()): string {
  return testDialect === 'pg'
    ? `${PG_TEMPLATE_PREFIX}${key}`
    : join(TEMPLATE_DIR, `quad-${key}.sqlite3`)
}

async function templateExists(template: string): Promise<boolean> {
  if (testDialect === 'sqlite') return existsSync(template)
  return withPgAdmin(async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])
    return found.rowCount === 1
  })
}

/**
 * Keeps the freshly migrated database of this worker as the template. Nothing
 * else is using the database at that moment; two workers publishing at once
 * both succeed (SQLite: an atomic rename) or the second one gives way
 * (PostgreSQL: the rename fails because the name is taken).
 */
async function publishTemplate(template: string, pgDatabase: string) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  if (testDialect === 'sqlite') {
    mkdirSync(TEMPLATE_DIR, { recursive: true, mode: 0o700 })
    const partial = `${template}.${process.pid}.tmp`
    rmSync(partial, { force: true })
    await db.rawQuery('VACUUM INTO ?', [partial])
    renameSync(partial, template)
    for (const name of readdirSync(TEMPLATE_DIR)) {
      const path = join(TEMPLATE_DIR, name)
      if (path === template) continue
      try {
        if (Date.now() - statSync(path).mtimeMs > STALE_TEMPLATE_MS) rmSync(path, { force: true })
      } catch {}
    }
    return
  }
  // CREATE DATABASE … TEMPLATE needs the source without connections: close
  // the pool; the next query opens it again.
  await db.manager.close(db.primaryConnectionName)
  const building = `${template}_${process.pid}`
  await withPgAdmin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${building}"`)
    await client.query(`CREATE DATABASE "${building}" TEMPLATE "${pgDatabase}"`)
    await client.query(`COMMENT ON DATABASE "${building}" IS '${new Date().toISOString()}'`)
    try {
      await client.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`)
    } catch {
      await client.query(`DROP DATABASE IF EXISTS "${building}"`)
    }
    const others = await client.query(
      `SELECT datname, shobj_description(oid, 'pg_database') AS made FROM pg_database
        WHERE datname LIKE $1 AND datname <> $2`,
      [`${PG_TEMPLATE_PREFIX}%`, template]
    )
    for (const { datname, made } of others.rows) {
      const age = Date.now() - Date.parse(made ?? '')
      if (!(age <= STALE_TEMPLATE_MS)) {
        await client.query(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => {})
      }
    }
  })
}

export interface BootOptions {
  /** Extra environment variables, set before the app boots. */
  env?: Record<string, string>
  /** Start the HTTP server (default true). */
  http?: boolean
  /**
   * 'migrated' (default): a database with every migration run, copied from the
   * template. 'empty': an empty database; no migration runs.
   */
  database?: 'migrated' | 'empty'
}

/** Boots the app; call once per test file in test.before and close in test.after.always. */
export async function bootTestApp(options: BootOptions = {}): Promise<TestApp> {
  const storage = mkdtempSync(join(tmpdir(), 'quad-test-'))
  const pgDatabase = `quad_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  Object.assign(process.env, {
    NODE_ENV: 'test',
    QUAD_STORAGE: storage,
    QUAD_TLS: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    QUAD_LOGIN_RATE_LIMIT: '1000',
    DB_CONNECTION: testDialect,
    PG_DATABASE: pgDatabase,
    ...options.env,
  })

  const migrated = options.database !== 'empty'
  const template =
    migrated && process.env.QUAD_TEST_TEMPLATE !== '0' && !process.env.SQLITE_FILE
      ? templateName()
      : undefined
  const fromTemplate = template !== undefined && (await templateExists(template))
  if (testDialect === 'pg') {
    await createPgDatabase(pgDatabase, fromTemplate ? template : undefined)
  } else if (fromTemplate) {
    const file = join(storage, 'db', 'quad.sqlite3')
    mkdirSync(join(storage, 'db'), { mode: 0o700 })
    copyFileSync(template, file)
    chmodSync(file, 0o600)
  }

  const { Ignitor } = await import('@adonisjs/core')
  const { APP_ROOT: appRoot, importer } = await import('../../bin/importer.js')
  const ignitor = new Ignitor(appRoot, { importer }).tap((app) => {
    app.booting(async () => {
      await import('#start/env')
    })
  })
  const app = ignitor.createApp('test')
  await app.init()
  await app.boot()
  await app.start(() => {})

  if (migrated) {
    const { default: testUtils } = await import('@adonisjs/core/services/test_utils')
    // On a copy of the template this finds every migration already run.
    await testUtils.db().migrate()
    if (template && !fromTemplate) await publishTemplate(template, pgDatabase)
  }

  let server: Server | undefined
  let baseUrl = ''
  if (options.http !== false) {
    const httpServer = await app.container.make('server')
    await httpServer.boot()
    server = createServer(httpServer.handle.bind(httpServer))
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  return {
    app,
    baseUrl,
    storage,
    dialect: testDialect,
    async close() {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()))
      await app.terminate()
      if (testDialect === 'pg') await dropPgDatabase(pgDatabase)
      rmSync(storage, { recursive: true, force: true })
    },
  }
}
