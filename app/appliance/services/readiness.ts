import { readdir, writeFile, unlink } from 'node:fs/promises'
import { join, parse } from 'node:path'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { storagePath } from '#appliance/services/storage_root'

export interface Check {
  name: 'database' | 'migrations' | 'storage'
  ok: boolean
  detail?: string
}

/** The database answers a query. */
export async function databaseCheck(): Promise<Check> {
  try {
    await db.rawQuery('SELECT 1')
    return { name: 'database', ok: true }
  } catch (error) {
    return { name: 'database', ok: false, detail: (error as Error).message.slice(0, 200) }
  }
}

/** Names of the migration files that have not run yet (all of them on an empty database). */
export async function pendingMigrations(): Promise<string[]> {
  const files = await readdir(app.migrationsPath())
  const expected = files
    .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => parse(file).name)
  if (!(await db.connection().schema.hasTable('adonis_schema'))) return expected
  const rows = await db.from('adonis_schema').select('name')
  const applied = new Set(rows.map((row) => parse(String(row.name)).name))
  return expected.filter((name) => !applied.has(name))
}

/** Every migration file has run. */
export async function migrationsCheck(): Promise<Check> {
  try {
    const pending = await pendingMigrations()
    return pending.length === 0
      ? { name: 'migrations', ok: true }
      : { name: 'migrations', ok: false, detail: `${pending.length} pending` }
  } catch (error) {
    return { name: 'migrations', ok: false, detail: (error as Error).message.slice(0, 200) }
  }
}

/** The storage root accepts a new file (disk full, read-only mount, wrong owner). */
export async function storageCheck(): Promise<Check> {
  const probe = join(storagePath('tmp'), `.ready-${process.pid}`)
  try {
    await writeFile(probe, 'ok', { mode: 0o600 })
    await unlink(probe)
    return { name: 'storage', ok: true }
  } catch (error) {
    return {
      name: 'storage',
      ok: false,
      detail: (error as NodeJS.ErrnoException).code ?? 'unwritable',
    }
  }
}

/** Everything a load balancer needs before it sends traffic here. */
export async function readinessChecks(): Promise<Check[]> {
  return Promise.all([databaseCheck(), migrationsCheck(), storageCheck()])
}
