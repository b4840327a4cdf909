/**
 * Command-line plumbing shared by the benchmarks in bench/.
 */
import { spawn } from 'node:child_process'

/** The value after `--name` in the arguments, or the fallback. */
export function option(args: string[], name: string, fallback: string) {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback
}

function runChild(args: string[], env: Record<string, string>) {
  return new Promise<number | null>((resolve) => {
    // The runtime flags this process got (a benchmark's heap settings), the loader once.
    const flags = process.execArgv.filter((flag) => !flag.startsWith('--import'))
    const child = spawn(process.execPath, [...flags, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.on('close', resolve)
  })
}

/**
 * Without `--db`, runs the benchmark once per database, each in a child
 * process of its own (the test boot helper reads TEST_DB when it loads), and
 * answers true: the caller has nothing left to do. With `--db`, answers false.
 */
export async function ranOnEachDatabase(name: string, args: string[]): Promise<boolean> {
  if (option(args, 'db', '')) return false
  for (const db of ['sqlite', 'pg']) {
    const code = await runChild(
      ['--import=@poppinss/ts-exec', 'bench/run.ts', name, ...args, '--db', db],
      { TEST_DB: db }
    )
    if (code !== 0) process.exitCode = 1
  }
  return true
}
