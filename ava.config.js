/**
 * ava configuration. Test files run several at a time (one per CPU unless
 * --concurrency says otherwise); tests/helpers/ava_worker.ts keeps the tests
 * inside each file in order. Under TEST_DB=pg the files listed in
 * tests/dialect_independent.json are left out: they ran in the SQLite pass.
 */
import { readFileSync } from 'node:fs'

const { files: dialectIndependent } = JSON.parse(
  readFileSync(new URL('tests/dialect_independent.json', import.meta.url), 'utf8')
)

export default {
  files: [
    'tests/**/*.spec.ts',
    ...(process.env.TEST_DB === 'pg' ? dialectIndependent.map((file) => `!${file}`) : []),
  ],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=@poppinss/ts-exec'],
  require: ['./tests/helpers/ava_worker.ts'],
  timeout: '120s',
  workerThreads: false,
}
