/**
 * tests/dialect_independent.json lists the spec files that run in the SQLite
 * pass only. A file belongs there only if its result cannot depend on the
 * database: it must not boot the app or open a database connection.
 */
import test from 'ava'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const self = 'tests/core/dialect_independent.spec.ts'
const { files } = JSON.parse(readFileSync(`${root}tests/dialect_independent.json`, 'utf8')) as {
  files: string[]
}

/** What a spec file that uses the app or its database says somewhere. */
const USES_THE_DATABASE = [
  /\bbootTestApp\b/,
  /\bboot\w*TestApp\b/,
  /helpers\/app(\.js)?['"]/,
  /helpers\/ace(\.js)?['"]/,
  /from ['"]pg['"]/,
  /@adonisjs\/lucid\/services\/db/,
]

test('every dialect-independent spec file exists and stays away from the app and its database', (t) => {
  t.true(files.length > 0)
  t.deepEqual([...files].sort(), files, 'the list is sorted')
  for (const file of files) {
    t.regex(file, /^tests\/.+\.spec\.ts$/)
    t.true(existsSync(`${root}${file}`), `${file} exists`)
    if (file === self || !existsSync(`${root}${file}`)) continue
    const source = readFileSync(`${root}${file}`, 'utf8')
    for (const pattern of USES_THE_DATABASE)
      t.false(pattern.test(source), `${file} matches ${pattern}: it must run on both databases`)
  }
})
