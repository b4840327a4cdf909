/**
 * Loaded by ava in every test worker before the test file (package.json
 * "ava"."require").
 *
 * Tests in one file share one app and one database and are written to run one
 * after another. ava's `--serial` gives that but also runs only one file at a
 * time, which leaves the machine idle while a file waits on its database, a
 * child process or a browser. This runs the tests of each file in order, the
 * way `--serial` does (test.serial ones first, then the others, in declaration
 * order), whatever the file concurrency (`--concurrency`, default: one file
 * per CPU).
 *
 * With QUAD_TEST_TIMINGS=<path>, each worker appends "<milliseconds>\t<file>"
 * to that file when it exits (bin/quad test prints the slowest files).
 */
import { appendFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const runnerUrl = new URL('../lib/runner.js', import.meta.resolve('ava'))
const { default: Runner } = (await import(runnerUrl.href)) as {
  default: { prototype: { start: (...args: unknown[]) => unknown; serial?: boolean } }
}
const start = Runner.prototype.start
if (typeof start !== 'function' || !start.toString().includes('this.serial')) {
  throw new Error(
    `tests/helpers/ava_worker.ts: ava's Runner (${runnerUrl.href}) changed; ` +
      'update how this file makes the tests of a file run serially, or run ava with --serial'
  )
}
Runner.prototype.start = function (this: { serial?: boolean }, ...args: unknown[]) {
  this.serial = true
  return start.apply(this, args)
}

const timings = process.env.QUAD_TEST_TIMINGS
if (timings) {
  const { default: test } = await import('ava')
  const file = relative(process.cwd(), fileURLToPath(test.meta.file))
  process.on('exit', () => {
    appendFileSync(timings, `${Math.round(performance.now())}\t${file}\n`)
  })
}
