/**
 * Benchmark runner: `npm run bench <name> [args…]` runs bench/<name>.ts,
 * whose default export receives the remaining arguments.
 */
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join } from 'node:path'

const folder = fileURLToPath(new URL('.', import.meta.url))
const [name, ...rest] = process.argv.slice(2)
const available = readdirSync(folder)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.replace(/\.ts$/, ''))

if (!name || !/^[a-z0-9_]+$/.test(name) || !existsSync(join(folder, `${name}.ts`))) {
  console.error(`usage: npm run bench <name> [args…]; benchmarks: ${available.join(', ')}`)
  process.exit(2)
}

const bench = await import(pathToFileURL(join(folder, `${name}.ts`)).href)
await bench.default(rest)
