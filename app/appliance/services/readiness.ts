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

async function databaseCheck(): Promise<Check> {
  try {
    await db.rawQuery('SELECT 1')
    return { name: 'database', ok: true }
  } catch (error) {
    return { name: 'database', ok: false, detail: (error as Error).message.slice(0, 200) }
  }
}

async function migrationsCheck(): Promise<Check> {
  try {
    const files = await readdir(app.migrationsPath())
    const expected = files
      .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
      .map((file) => parse(file).name)
    const rows = await db.from('adonis_schema').select('name')
    const applied = new Set(rows.map((row) => parse(String(row.name)).name))
    const pending = expected.filter((name) => !applied.has(name))
    return pending.length === 0
      ? { name: 'migrations', ok: true }
      : { name: 'migrations', ok: false, detail: `${pending.length} pending` }
  } catch (error) {
    return { name: 'migrations', ok: false, detail: (error as Error).message.slice(0, 200) }
  }
}

async function storageCheck(): Promise<Check> {
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
