/**
 * Runs a real `node ace ...` command in a child process, the way an operator
 * or bin/quad does, against the test app's database unless told otherwise.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestApp } from './app.js'

export interface AceResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout and stderr together, without colours. */
  output: string
}

export interface AceOptions {
  /** Extra environment variables; undefined removes one. */
  env?: Record<string, string | undefined>
  /** Written to the command's standard input (closed in any case). */
  input?: string
}

const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The environment that points a child process at the test app's storage root
 * and database. The parent's APP_KEY is left out: the child reads the key
 * from the storage root as a real process would.
 */
export function aceEnvironment(quad: TestApp): Record<string, string | undefined> {
  return {
    QUAD_STORAGE: quad.storage,
    DB_CONNECTION: quad.dialect,
    SQLITE_FILE: join(quad.storage, 'db', 'quad.sqlite3'),
    APP_KEY: undefined,
  }
}

export function runAce(args: string[], options: AceOptions = {}): Promise<AceResult> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries({ ...process.env, ...options.env }))
    if (value !== undefined) env[key] = value
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['ace', ...args, '--no-ansi'], {
      cwd: APP_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      // eslint-disable-next-line no-control-regex
      const plain = (text: string) => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
      resolve({ code, stdout, stderr, output: plain(stdout + stderr) })
    })
    child.stdin.end(options.input ?? '')
  })
}
