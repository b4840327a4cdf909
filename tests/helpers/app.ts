/**
 * Boots one Quad application per ava worker (per test file): its own storage
 * root, its own SQLite file or PostgreSQL database, migrated, with HTTP on a
 * free port. TEST_DB=pg selects PostgreSQL (PG_HOST/PG_PORT/PG_USER/PG_PASSWORD).
 */
import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

/** Creates an empty PostgreSQL database for this worker, dropping any leftover. */
export async function createPgDatabase(name: string) {
  const client = new pg.Client(pgAdminConfig())
  await client.connect()
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await client.query(`CREATE DATABASE "${name}"`)
  } finally {
    await client.end()
  }
}

export async function dropPgDatabase(name: string) {
  const client = new pg.Client(pgAdminConfig())
  await client.connect()
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  } finally {
    await client.end()
  }
}

export interface BootOptions {
  /** Extra environment variables, set before the app boots. */
  env?: Record<string, string>
  /** Start the HTTP server (default true). */
  http?: boolean
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
  if (testDialect === 'pg') await createPgDatabase(pgDatabase)

  const { Ignitor } = await import('@adonisjs/core')
  const { APP_ROOT, importer } = await import('../../bin/importer.js')
  const ignitor = new Ignitor(APP_ROOT, { importer }).tap((app) => {
    app.booting(async () => {
      await import('#start/env')
    })
  })
  const app = ignitor.createApp('test')
  await app.init()
  await app.boot()
  await app.start(() => {})

  const { default: testUtils } = await import('@adonisjs/core/services/test_utils')
  await testUtils.db().migrate()

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
